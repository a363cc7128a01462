import { z } from 'zod';
import { SettingsSchema } from '../settings.js';
import { MediaRecordSchema, TweetRecordSchema } from './schemas.js';

/** The JSON Schemas published in schemas/, by file name, generated from the code's zod schemas. */
export function publishedSchemas(): Record<string, unknown> {
  return {
    'media-record.schema.json': z.toJSONSchema(MediaRecordSchema),
    'tweet-record.schema.json': z.toJSONSchema(TweetRecordSchema),
    'config.schema.json': z.toJSONSchema(SettingsSchema),
  };
}
