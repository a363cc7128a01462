import { createHash } from 'node:crypto';
import { DATA_FILE } from './data.js';
import { SCRIPT } from './script.js';
import { STYLE } from './style.js';

export const PAGE_FILE = 'index.html';

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * Nothing but files next to the page, and only of the kinds it uses: the inline style and script
 * by hash, the data file, the images and videos. No host, scheme or inline handler is allowed, so
 * no request can leave file:// and no text in the data can ever run as script.
 */
export const CSP = [
  "default-src 'none'",
  `script-src 'self' ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "img-src 'self'",
  "media-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const icon = (body: string) => `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${body}</svg>`;
const ICONS = {
  gallery: icon('<rect x="3" y="3" width="18" height="18" rx="3"/><circle cx="8.5" cy="9" r="1.8"/><path d="m21 15-4.5-4.5L7 20"/>'),
  search: icon('<circle cx="11" cy="11" r="7"/><path d="m20 20-3.5-3.5"/>'),
  close: icon('<path d="M6 6l12 12M18 6 6 18"/>'),
  prev: icon('<path d="m15 18-6-6 6-6"/>'),
  next: icon('<path d="m9 18 6-6-6-6"/>'),
  external: icon('<path d="M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5"/>'),
  play: '<svg viewBox="0 0 24 24" fill="currentColor" aria-hidden="true"><path d="M7 4.5v15a1 1 0 0 0 1.5.86l12.6-7.5a1 1 0 0 0 0-1.72L8.5 3.64A1 1 0 0 0 7 4.5z"/></svg>',
};

/** The page is the same for every archive: all it shows comes from the data file, through textContent. */
export function pageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="x-media-dump">
<title>Media archive</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top">
  <div class="bar">
    <div class="brand">
      <div class="logo">${ICONS.gallery}</div>
      <div><h1 id="title">Media archive</h1><p class="summary" id="summary"></p></div>
    </div>
    <form class="filters" id="filters" role="search" aria-label="Filter the media">
      <div class="search">${ICONS.search}<label class="sr-only" for="q">Search tweet text and alt text</label><input id="q" type="search" placeholder="Search text and alt text" autocomplete="off" spellcheck="false"></div>
      <fieldset class="types"><legend class="sr-only">Type</legend>
        <input type="radio" name="type" id="type-all" value="all" checked><label for="type-all">All <span class="n" id="n-all"></span></label>
        <input type="radio" name="type" id="type-photo" value="photo"><label for="type-photo">Photos <span class="n" id="n-photo"></span></label>
        <input type="radio" name="type" id="type-motion" value="motion"><label for="type-motion">Videos &amp; GIFs <span class="n" id="n-motion"></span></label>
        <input type="radio" name="type" id="type-gif" value="animated_gif"><label for="type-gif">GIFs <span class="n" id="n-gif"></span></label>
      </fieldset>
      <div class="dates">
        <label>From <input type="date" id="from"></label>
        <label>To <input type="date" id="to"></label>
      </div>
      <button class="clear" id="clear" type="reset">Clear</button>
    </form>
  </div>
  <p class="status" id="status" role="status" aria-live="polite"></p>
</header>
<main>
  <h2 class="sr-only">Media, newest first</h2>
  <div class="grid" id="grid"></div>
  <div class="empty" id="empty" hidden>
    <div class="mark">${ICONS.gallery}</div>
    <h2 id="empty-title"></h2>
    <p id="empty-text"></p>
    <button class="button" id="empty-clear" type="button">Clear filters</button>
  </div>
</main>
<dialog class="detail" id="detail" aria-labelledby="d-who">
  <div class="stage" id="d-stage">
    <button class="nav prev" id="d-prev" type="button" aria-label="Previous (left arrow)">${ICONS.prev}</button>
    <button class="nav next" id="d-next" type="button" aria-label="Next (right arrow)">${ICONS.next}</button>
  </div>
  <section class="info">
    <div class="info-head">
      <div><h2 class="who" id="d-who"></h2><p class="when"><time id="d-when"></time></p></div>
      <button class="icon" id="d-close" type="button" autofocus aria-label="Close (Escape)">${ICONS.close}</button>
    </div>
    <p class="text" id="d-text" dir="auto"></p>
    <p class="notext" id="d-notext">This item was archived before tweets were kept, so its text is not in the archive.</p>
    <div class="alt" id="d-alt-box"><h3>Alt text</h3><p id="d-alt" dir="auto"></p></div>
    <dl class="meta" id="d-meta"></dl>
    <p class="links"><a class="link" id="d-link" target="_blank" rel="noopener noreferrer">View on x.com ${ICONS.external}</a><a class="link quiet" id="d-source" target="_blank" rel="noopener noreferrer"></a></p>
    <p class="pos" id="d-pos"></p>
  </section>
</dialog>
<template id="play-icon"><span class="play">${ICONS.play}</span></template>
<noscript><p class="empty">This viewer needs JavaScript to list the archive. The media files are in this folder.</p></noscript>
<script src="${DATA_FILE}"></script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
