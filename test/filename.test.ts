import { describe, expect, it } from 'vitest';
import { disambiguate } from '../src/archive/files.js';
import { checkTemplate, DEFAULT_FILENAME, renderFilename } from '../src/media/filename.js';
import type { MediaItem, TweetContext } from '../src/types.js';

const ITEM: MediaItem = {
  media: { media_key: '3_1517995312715079686', type: 'photo', url: 'https://pbs.twimg.com/media/FREAsbkXIAYiaVV.jpg' },
  tweet: { tweet_id: '1517995317697916928', created_at: '2022-04-23T22:34:21.000Z', author_id: '96479162', username: 'omarmhaimdat' },
  n: 2,
};
const USAGE = 'use {tweet_id} {n} {media_key} {type} {date} {username} {account} {ext}';

/** `_(template, expected)`: one table row, one line (antfu/ni style). */
const _ = (template: string, expected: string, tweet: TweetContext = ITEM.tweet, ext = 'jpg') => () => {
  expect(checkTemplate(template)).toBeUndefined();
  expect(renderFilename(template, { ...ITEM, tweet }, ext, undefined)).toBe(expected);
};
const user = (username: string): TweetContext => ({ ...ITEM.tweet, username });

describe('renderFilename', () => {
  it('default', _(DEFAULT_FILENAME, '1517995317697916928_2.jpg'));
  it('every field', _('{tweet_id} {n} {media_key} {type} {date} {username} {account} {ext}', '1517995317697916928 2 3_1517995312715079686 photo 2022-04-23 omarmhaimdat unknown jpg'));
  it('folders from the template', _('{username}/{date}/{tweet_id}_{n}.{ext}', 'omarmhaimdat/2022-04-23/1517995317697916928_2.jpg'));
  it('backslash is a folder too', _('{username}\\{n}.{ext}', 'omarmhaimdat/2.jpg'));
  it('ext from the caller', _('{tweet_id}.{ext}', '1517995317697916928.webp', ITEM.tweet, 'webp'));
  it('undated', _('{date}/{n}.{ext}', 'undated/2.jpg', { tweet_id: '1517995317697916928', username: 'omarmhaimdat' }));
  it('no username', _('{username}_{n}.{ext}', 'unknown_2.jpg', { tweet_id: '1517995317697916928', created_at: '2022-04-23T22:34:21.000Z' }));
  it('/ in a value', _('{username}/{n}.{ext}', 'a_b/2.jpg', user('a/b')));
  it('\\ in a value', _('{username}/{n}.{ext}', 'a_b/2.jpg', user('a\\b')));
  it('.. as a value never climbs, nor vanishes', _('{username}/{n}.{ext}', '_/2.jpg', user('..')));
  it('dots only, twice, is still one level', _('{username}{username}/{n}.{ext}', '__/2.jpg', user('..')));
  it('../.. in a value', _('{username}/{n}.{ext}', '.._/2.jpg', user('../..')));
  it('control characters', _('{username}.{ext}', 'a_b_c_d.jpg', user('a\u0000b\nc\u007fd')));
  it('characters Windows refuses', _('{username}.{ext}', 'a_b_c_d_e_f_g.jpg', user('a<b>c:d"e|f?g')));
  it('* in a value', _('{username}.{ext}', 'a_b.jpg', user('a*b')));
  it('Windows reserved name', _('{username}.{ext}', '_CON.jpg', user('CON')));
  it('Windows reserved folder', _('{username}/{n}.{ext}', '_nul/2.jpg', user('nul')));
  it('a reserved value is marked wherever it lands', _('{username}_x/{username}.{ext}', '_LPT1_x/_LPT1.jpg', user('LPT1')));
  it('COM9.txt is reserved too', _('{username}.{ext}', '_COM9.txt.jpg', user('COM9.txt')));
  it('trailing dots and spaces cut', _('{username}/{n}.{ext}', 'abc/2.jpg', user('abc. .')));
  it('leading spaces cut', _('{username}/{n}.{ext}', 'abc/2.jpg', user('  abc')));
  it('nothing left: the media key', _('{username}', '3_1517995312715079686.jpg', user('')));
  it('a long name is cut at 200 bytes on a code point', _('{username}', `a${'😀'.repeat(49)}`, user(`a${'😀'.repeat(60)}`)));
});

const bad = (template: string, problem: string) => () => expect(checkTemplate(template)).toBe(problem);

describe('checkTemplate', () => {
  it('unknown field', bad('{id}_{n}.{ext}', `has unknown field {id}; ${USAGE}`));
  it('empty field', bad('{}.{ext}', `has unknown field {}; ${USAGE}`));
  it('field names are case-sensitive', bad('{Tweet_ID}.{ext}', `has unknown field {Tweet_ID}; ${USAGE}`));
  it('empty', bad('', 'is empty'));
  it('blank', bad('   ', 'is empty'));
  it('unmatched {', bad('{tweet_id.{ext}', 'has an unmatched { or }'));
  it('unmatched }', bad('tweet_id}.{ext}', 'has an unmatched { or }'));
  it('absolute', bad('/tmp/{tweet_id}.{ext}', 'must stay inside --out'));
  it('climbs out', bad('../{tweet_id}.{ext}', 'must stay inside --out'));
  it('climbs out midway', bad('a/../../{tweet_id}.{ext}', 'must stay inside --out'));
  it('climbs out with \\', bad('..\\{tweet_id}.{ext}', 'must stay inside --out'));
  it('a dotted name is fine', () => expect(checkTemplate('..{tweet_id}.{ext}')).toBeUndefined());
});

describe('disambiguate', () => {
  it('before the extension', () => expect(disambiguate('a/1517995317697916928_1.jpg', '3_1517995312715079686')).toBe('a/1517995317697916928_1~3_1517995312715079686.jpg'));
  it('no extension', () => expect(disambiguate('a/b', '7_2')).toBe('a/b~7_2'));
});
