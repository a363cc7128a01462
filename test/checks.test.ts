import { describe, expect, it } from 'vitest';
import { parseKey, parseOut } from '../src/config.js';
import { judgeAnswer, parseContentRange, rangeProblem, signatureProblem, sniff } from '../src/download/checks.js';
import { TransferError, TransientError, UsageError } from '../src/errors.js';
import { checkTemplate, sanitizeComponent } from '../src/media/filename.js';
import { withoutUserinfo } from '../src/net/http.js';
import { RateWindow } from '../src/net/rate.js';
import { escapeControls } from '../src/output/terminal.js';

/** The pure checks behind issue 13, one line per case. */

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('sniff / signatureProblem', () => {
  it.each([
    ['ff d8 ff e0 00 10 4a 46 49 46', 'jpeg'],
    ['89 50 4e 47 0d 0a 1a 0a 00 00', 'png'],
    [Buffer.from('GIF89a...').toString('hex'), 'gif'],
    [Buffer.from('RIFF\u0000\u0000\u0000\u0000WEBPVP8 ').toString('hex'), 'webp'],
    ['00 00 00 20 66 74 79 70 69 73 6f 6d', 'mp4'],
    [Buffer.from('\ufeff  <!DOCTYPE html>').toString('hex'), 'html'],
    [Buffer.from('{"errors":[]}').toString('hex'), 'json'],
    ['', 'empty'],
    ['00 01 02 03 04 05 06 07', 'unknown'],
  ])('%s → %s', (bytes, kind) => expect(sniff(hex(bytes))).toBe(kind));

  it('names what came instead of the media expected', () => {
    expect(signatureProblem(hex('ff d8 ff e0'), 'photo', 'h')).toBeUndefined();
    expect(signatureProblem(hex('00 00 00 18 66 74 79 70 6d 70 34 32'), 'animated_gif', 'h')).toBeUndefined();
    expect(signatureProblem(hex('00 00 00 18 66 74 79 70 6d 70 34 32'), 'photo', 'h')).toBe('h sent a body that is not a JPEG, PNG, GIF or WebP image (a MP4); nothing kept');
    expect(signatureProblem(Buffer.from('<html>'), 'video', 'h')).toBe('h sent text/html (an error page?) instead of an MP4; nothing kept');
    expect(signatureProblem(Buffer.alloc(0), 'photo', 'h')).toBe('h sent an empty body instead of a photo (JPEG, PNG, GIF or WebP); nothing kept');
    expect(signatureProblem(hex('00 01 02 03 04 05 06 07 08'), 'video', 'h')).toBe('h sent a body that is not an MP4 (starts 00 01 02 03 04 05 06 07); nothing kept');
  });
});

describe('Content-Range', () => {
  it('parses bytes start-end/total, and refuses what it cannot read', () => {
    expect(parseContentRange('bytes 10000-14999/20000')).toEqual({ start: 10000, end: 14999, total: 20000 });
    expect(parseContentRange('bytes 0-9/*')).toEqual({ start: 0, end: 9, total: undefined });
    expect(parseContentRange('bytes 9-0/10')).toBeUndefined();
    expect(parseContentRange('items 0-9/10')).toBeUndefined();
    expect(parseContentRange(undefined)).toBeUndefined();
  });

  it('a 206 continues our file only at the byte asked for, towards the total first announced', () => {
    const range = (text: string) => parseContentRange(text);
    expect(rangeProblem(range('bytes 10000-19999/20000'), 10000, 20000)).toBeUndefined();
    expect(rangeProblem(range('bytes 10000-14999/20000'), 10000, 20000)).toBeUndefined();
    expect(rangeProblem(range('bytes 0-19999/20000'), 10000, 20000)).toBe('it answered from byte 0');
    expect(rangeProblem(range('bytes 10000-20999/21000'), 10000, 20000)).toBe('the total is now 21000 bytes, not the 20000 first announced');
    expect(rangeProblem(range('bytes 10000-19999/*'), 10000, 20000)).toBe('it gave no total length');
    expect(rangeProblem(range('bytes 10000-20000/20000'), 10000, 20000)).toBe('its range ends at byte 20000 of 20000');
    expect(rangeProblem(undefined, 10000, 20000)).toBe('no usable Content-Range');
  });

  it('judgeAnswer: where the body goes, or why it is refused', () => {
    const context = { resumeFrom: 10000, announced: 20000, maxFileSize: 1 << 30, finalUrl: 'http://cdn.test/x.mp4' };
    expect(judgeAnswer(206, { 'content-range': 'bytes 10000-14999/20000' }, context)).toEqual({ startAt: 10000, total: 20000, endsAt: 15000 });
    expect(judgeAnswer(200, { 'content-length': '20000' }, context)).toEqual({ startAt: 0, total: 20000, endsAt: 20000 });
    const refused = (status: number, headers: Record<string, string>, over = {}) => {
      const answer = judgeAnswer(status, headers, { ...context, ...over });
      return 'refused' in answer ? [answer.refused.constructor.name, answer.refused.message, answer.restart] : answer;
    };
    expect(refused(206, { 'content-range': 'bytes 0-9/10' }, { resumeFrom: 0 })).toEqual([TransientError.name, 'cdn.test would not resume at byte 0 (HTTP 206: no range was asked for); starting over', true]);
    expect(refused(416, {})).toEqual([TransientError.name, 'cdn.test would not resume at byte 10000 (HTTP 416); starting over', true]);
    expect(refused(200, { 'content-encoding': 'br' })).toEqual([TransferError.name, 'cdn.test sent a br-encoded body, which was not asked for (Accept-Encoding: identity); nothing kept', true]);
    expect(refused(200, { 'content-length': '2000' }, { maxFileSize: 1000 })).toEqual([TransferError.name, 'cdn.test announced 2000 bytes, more than --max-file-size 1000; refused', true]);
    expect(refused(404, {})).toEqual([TransferError.name, 'HTTP 404 from http://cdn.test/x.mp4', false]);
  });
});

describe('RateWindow', () => {
  const limits = { minBytesPerSecond: 1000, windowMs: 3000 };
  it('is not slow before a whole window has passed, however little came', () => {
    const w = new RateWindow(limits, 0);
    expect([1000, 2000, 2999].map((t) => w.tooSlow(t))).toEqual([false, false, false]);
    expect(w.tooSlow(3000)).toBe(true);
  });

  it('averages over the last window: a burst long ago does not carry a trickle now', () => {
    const w = new RateWindow(limits, 0);
    w.add(100_000);
    expect([1000, 2000, 3000].map((t) => w.tooSlow(t))).toEqual([false, false, false]);
    // 1000…4000 brings 2999 bytes, one short of 1000 B/s: the burst before it no longer counts.
    w.add(2999);
    expect(w.tooSlow(4000)).toBe(true);
  });

  it('steady at the minimum is fine; 0 turns the check off', () => {
    const w = new RateWindow(limits, 0);
    for (let t = 1000; t <= 10_000; t += 1000) {
      w.add(1000);
      expect(w.tooSlow(t)).toBe(false);
    }
    expect(new RateWindow({ minBytesPerSecond: 0, windowMs: 1000 }, 0).tooSlow(60_000)).toBe(false);
  });
});

describe('output hygiene', () => {
  it('withoutUserinfo strips user and password, and leaves other URLs as they are', () => {
    expect(withoutUserinfo('https://user:pass@pbs.twimg.com/media/X.jpg?name=orig')).toBe('https://pbs.twimg.com/media/X.jpg?name=orig');
    expect(withoutUserinfo('https://user@pbs.twimg.com/a')).toBe('https://pbs.twimg.com/a');
    expect(withoutUserinfo('https://pbs.twimg.com/media/X.jpg')).toBe('https://pbs.twimg.com/media/X.jpg');
    expect(withoutUserinfo('https://u:p@[bad/x')).toBe('https://[bad/x');
  });

  it('escapeControls shows controls and bidi characters as \\uXXXX, keeps lines and tabs', () => {
    expect(escapeControls('a\u001b[31mb\u0007\tc\n\u202ed\u2066e\u200ff\u009bg\u007f')).toBe('a\\u001b[31mb\\u0007\tc\n\\u202ed\\u2066e\\u200ff\\u009bg\\u007f');
    const json = JSON.stringify({ name: 'x\u202ey\u0085' });
    expect(JSON.parse(escapeControls(json))).toEqual({ name: 'x\u202ey\u0085' });
  });

  it('file names never hold controls or bidi characters', () => {
    expect(sanitizeComponent('photo\u202egpj.exe')).toBe('photo_gpj.exe');
    expect(sanitizeComponent('a\u0085b\u2067c\u200ed')).toBe('a_b_c_d');
  });

  it('--filename may not render into the state folder', () => {
    expect(checkTemplate('.x-media-dump/journal.jsonl')).toBe("renders into .x-media-dump/, the archive's state folder; pick another folder name");
    expect(checkTemplate('.X-MEDIA-DUMP. /{tweet_id}.{ext}')).toBe("renders into .x-media-dump/, the archive's state folder; pick another folder name");
    expect(checkTemplate('x-media-dump/{tweet_id}.{ext}')).toBeUndefined();
  });

  it('the key: a line break, a non-ASCII or a control character is a usage error that does not show it', () => {
    expect(parseKey('  agnt_live_ok\n')).toBe('agnt_live_ok');
    for (const [key, what] of [
      ['agnt\nlive', 'a line break'],
      ['agnt\rlive', 'a line break'],
      ['agnt_lïve', 'a non-ASCII character'],
      ['agnt\tlive', 'a control character'],
    ]) {
      expect(() => parseKey(key)).toThrow(UsageError);
      expect(() => parseKey(key)).toThrow(`AGNTDATA_API_KEY contains ${what}; copy the key again from your agntdata dashboard`);
    }
    expect(() => parseOut('')).toThrow('--out is empty');
    expect(() => parseOut('  ')).toThrow('--out is empty');
  });
});
