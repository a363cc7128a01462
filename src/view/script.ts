import { DATA_VERSION } from './data.js';
import { DETAIL } from './script-detail.js';
import { GRID } from './script-grid.js';

/**
 * The viewer's script, inlined in index.html and allowed by its hash in the page's CSP. Plain
 * browser JavaScript kept as strings (the build compiles only src/*.ts and the package ships dist/):
 * this part reads the data, sorts it newest first and filters it; script-grid draws only the rows
 * in view; script-detail is the large view. Every text from the archive goes in through
 * textContent or an attribute, never as markup.
 */
const CORE = String.raw`
'use strict';
const $ = (id) => document.getElementById(id);
const grid = $('grid'), form = $('filters'), query = $('q'), from = $('from'), to = $('to'), header = document.querySelector('.top');
const DAY = 86400000, TWITTER_EPOCH = 1288834974657;
const TYPE_NAMES = { photo: 'Photo', video: 'Video', animated_gif: 'GIF' };
const reduceMotion = matchMedia('(prefers-reduced-motion: reduce)').matches;
const numberFormat = new Intl.NumberFormat();
const whenFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const dayFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const monthFormat = new Intl.DateTimeFormat(undefined, { month: 'short', year: 'numeric', timeZone: 'UTC' });

const text = (value) => (typeof value === 'string' ? value : undefined);
const count = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const fold = (s) => (/[^\x00-\x7f]/.test(s) ? s.normalize('NFKD').replace(/\p{M}/gu, '') : s).toLowerCase();
const compareIds = (a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
const plural = (n, one, many) => numberFormat.format(n) + ' ' + (n === 1 ? one : many);
const isoDay = (time) => new Date(time).toISOString().slice(0, 10);
const fileUrl = (path) => path.split('/').map(encodeURIComponent).join('/');
function el(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

/** created_at, else the time in a snowflake id, else 0 (unknown: sorts last, outside any date range). */
function timeOf(created, id) {
  const time = created ? Date.parse(created) : NaN;
  if (time === time) return time;
  return /^\d{17,20}$/.test(id) ? Number(BigInt(id) >> 22n) + TWITTER_EPOCH : 0;
}

function load(data) {
  if (!data || data.version !== ${DATA_VERSION} || !Array.isArray(data.fields) || !Array.isArray(data.items)) return undefined;
  const at = {};
  data.fields.forEach((name, i) => { at[name] = i; });
  return data.items.map((row) => {
    const tweet = String(row[at.tweet_id] ?? ''), created = text(row[at.created_at]);
    const words = text(row[at.text]), alt = text(row[at.alt_text]);
    return {
      key: String(row[at.media_key]), type: String(row[at.type]), path: String(row[at.path]), bytes: count(row[at.bytes]),
      width: count(row[at.width]), height: count(row[at.height]), duration: count(row[at.duration_ms]), alt, tweet, created,
      user: text(row[at.username]), text: words, source: text(row[at.source_tweet_id]), sourceUser: text(row[at.source_username]),
      time: timeOf(created, tweet), hay: fold((words || '') + '\n' + (alt || '')),
    };
  }).sort((a, b) => b.time - a.time || compareIds(b.tweet, a.tweet));
}

const items = load(window.xmdViewData);
let view = items || [];

function showEmpty(title, detail, canClear) {
  $('empty').hidden = false;
  $('empty-title').textContent = title;
  $('empty-text').textContent = detail;
  $('empty-clear').hidden = !canClear;
}

function summarize() {
  const n = { photo: 0, video: 0, animated_gif: 0 }, users = new Map();
  let first = Infinity, last = -Infinity;
  for (const item of items) {
    n[item.type] = (n[item.type] || 0) + 1;
    if (item.user) users.set(item.user, (users.get(item.user) || 0) + 1);
    if (item.time > 0) { first = Math.min(first, item.time); last = Math.max(last, item.time); }
  }
  const names = [...users].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([name]) => '@' + name);
  const title = names.length === 0 ? 'Media archive' : names.length <= 2 ? names.join(' & ') : names.slice(0, 2).join(', ') + ' & ' + plural(names.length - 2, 'other', 'others');
  $('title').textContent = title;
  document.title = title + ' · media archive';
  const parts = [plural(items.length, 'item', 'items')];
  if (n.photo) parts.push(plural(n.photo, 'photo', 'photos'));
  if (n.video) parts.push(plural(n.video, 'video', 'videos'));
  if (n.animated_gif) parts.push(plural(n.animated_gif, 'GIF', 'GIFs'));
  if (last > 0) parts.push(first === last ? monthFormat.format(first) : monthFormat.format(first) + ' – ' + monthFormat.format(last));
  $('summary').textContent = parts.join(' · ');
  $('n-all').textContent = numberFormat.format(items.length);
  $('n-photo').textContent = numberFormat.format(n.photo);
  $('n-motion').textContent = numberFormat.format(n.video + n.animated_gif);
  $('n-gif').textContent = numberFormat.format(n.animated_gif);
  if (last > 0) for (const input of [from, to]) { input.min = isoDay(first); input.max = isoDay(last); }
}

function readFilters() {
  const type = form.elements.namedItem('type').value;
  const words = fold(query.value).split(/\s+/).filter(Boolean);
  const start = from.value ? Date.parse(from.value + 'T00:00:00Z') : -Infinity;
  const end = to.value ? Date.parse(to.value + 'T00:00:00Z') + DAY - 1 : Infinity;
  return { type, words, start, end, any: type !== 'all' || words.length > 0 || from.value !== '' || to.value !== '' };
}

function matches(item, f) {
  if (f.type === 'motion' ? item.type !== 'video' && item.type !== 'animated_gif' : f.type !== 'all' && item.type !== f.type) return false;
  if (item.time < f.start || item.time > f.end) return false;
  for (const word of f.words) if (!item.hay.includes(word)) return false;
  return true;
}

function applyFilters() {
  const f = readFilters();
  view = f.any ? items.filter((item) => matches(item, f)) : items;
  $('empty').hidden = true;
  $('clear').hidden = !f.any;
  if (items.length === 0) showEmpty('No media in this archive yet', 'Archive an account with x-media-dump --user <id> --out <folder>, then run x-media-dump view --out <folder> again.', false);
  else if (view.length === 0) showEmpty('Nothing matches', 'Try other words, another type or a wider date range.', true);
  $('status').textContent = items.length === 0 ? '' : f.any ? 'Showing ' + numberFormat.format(view.length) + ' of ' + plural(items.length, 'item', 'items') + ', newest first' : 'Newest first';
  if (grid.getBoundingClientRect().top < 0) scrollTo(0, 0);
  resetGrid();
}
`;

const START = String.raw`
if (!items) {
  form.hidden = true;
  showEmpty('The archive data is missing', 'index.data.js should be next to this page. Run x-media-dump view --out <folder> again to write both.', false);
} else {
  summarize();
  form.addEventListener('input', applyFilters);
  form.addEventListener('submit', (event) => event.preventDefault());
  const clearFilters = () => {
    query.value = from.value = to.value = '';
    $('type-all').checked = true;
    applyFilters();
  };
  form.addEventListener('reset', (event) => { event.preventDefault(); clearFilters(); });
  $('empty-clear').addEventListener('click', clearFilters);
  applyFilters();
  performance.mark('xmd:first-tiles');
}
`;

export const SCRIPT = `\n(() => {${CORE}${GRID}${DETAIL}${START}})();\n`;
