import { describe, expect, it } from 'vitest';
import { archive, verify } from '../src/index.js';
import { tempDir } from './helpers/cli.js';

describe('the library checks what the command line checks', () => {
  it('numbers out of the flags\' ranges, and a --max-cost that is not an amount, are refused before any request', async () => {
    const base = { user: '96479162', out: tempDir(), apiKey: 'agnt_live_TESTKEY_5f2c9e1d7b', apiBase: 'http://127.0.0.1:9/v1/x' };
    await expect(archive({ ...base, concurrency: 65 })).rejects.toThrow('concurrency must be a whole number from 1 to 64, not 65');
    await expect(archive({ ...base, maxCost: -1 })).rejects.toThrow('maxCost must be an amount of US dollars above 0, not -1');
    await expect(archive({ ...base, maxCost: Number.NaN })).rejects.toThrow('maxCost must be an amount of US dollars above 0, not NaN');
    await expect(verify({ out: base.out, maxFileSize: 0 })).rejects.toThrow('maxFileSize must be a whole number from 1 to 9007199254740991, not 0');
  });
});
