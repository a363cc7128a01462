import type { TweetFacts } from '../types.js';
import { createdAt } from './normalize.js';

/** A tweet's snowflake id and creation time, as the pager needs them; never throws. */
export function tweetFacts(raw: unknown): TweetFacts {
  if (!raw || typeof raw !== 'object') return { id: undefined, time: undefined };
  const tweet = raw as Record<string, unknown>;
  const id = tweet['tweet_id'] ?? tweet['id_str'];
  if (typeof id !== 'string' || !/^\d+$/.test(id)) return { id: undefined, time: undefined };
  const pick = (key: string) => (typeof tweet[key] === 'string' ? (tweet[key] as string) : undefined);
  const timestamp = typeof tweet['timestamp'] === 'number' ? tweet['timestamp'] : undefined;
  const iso = createdAt({ creation_date: pick('creation_date'), created_at: pick('created_at'), timestamp }, id);
  const user = tweet['user'];
  const since = user && typeof user === 'object' ? (user as Record<string, unknown>)['creation_date'] : undefined;
  const authorCreated = typeof since === 'string' ? createdAt({ creation_date: since }, '0') : undefined;
  return { id: BigInt(id), time: iso === undefined ? undefined : Date.parse(iso), authorCreated: authorCreated === undefined ? undefined : Date.parse(authorCreated) };
}
