/**
 * The grid: square tiles in as many columns as fit, and only the rows on screen (plus a few) in
 * the DOM, so 50,000 items cost what a screenful does. Part of the page script (see script.ts).
 */
export const GRID = String.raw`
const OVERSCAN = 2;
const tiles = new Map();
let columns = 2, size = 100, gap = 10, rowHeight = 110, rows = 0, scheduled = false;

function layout() {
  const width = grid.clientWidth;
  const narrow = width < 560;
  gap = narrow ? 4 : 10;
  columns = Math.max(2, Math.floor((width + gap) / ((narrow ? 110 : 190) + gap)));
  size = Math.floor((width - gap * (columns - 1)) / columns);
  rowHeight = size + gap;
  rows = Math.ceil(view.length / columns);
  grid.style.height = Math.max(0, rows * rowHeight - gap) + 'px';
}

/** Tiles for the rows in view; tiles that stay keep their node (and focus, and loaded image). */
function render() {
  const top = grid.getBoundingClientRect().top;
  const firstRow = Math.max(0, Math.floor(-top / rowHeight) - OVERSCAN);
  const lastRow = Math.min(rows, Math.ceil((innerHeight - top) / rowHeight) + OVERSCAN);
  const start = firstRow * columns, end = Math.min(view.length, lastRow * columns);
  for (const [i, node] of tiles) if (i < start || i >= end) { drop(node); tiles.delete(i); }
  let next = null;
  for (let i = end - 1; i >= start; i--) {
    let node = tiles.get(i);
    if (!node) {
      node = tile(view[i], i);
      tiles.set(i, node);
      grid.insertBefore(node, next);
    }
    node.style.transform = 'translate(' + (i % columns) * (size + gap) + 'px,' + Math.floor(i / columns) * rowHeight + 'px)';
    node.style.width = node.style.height = size + 'px';
    next = node;
  }
}

function resetGrid() {
  for (const node of tiles.values()) drop(node);
  tiles.clear();
  layout();
  render();
}

function drop(node) {
  const video = node.querySelector('video');
  if (video) { video.pause(); video.removeAttribute('src'); video.load(); }
  node.remove();
}

function caption(item) {
  return (item.text || item.alt || '').replace(/https:\/\/t\.co\/\w+/g, '').replace(/\s+/g, ' ').trim();
}

function clock(ms) {
  const s = Math.round(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, pad = (n) => String(n).padStart(2, '0');
  return (h ? h + ':' + pad(m) : m) + ':' + pad(s % 60);
}

function tile(item, index) {
  const node = el('button', item.type === 'photo' ? 'tile' : 'tile motion');
  node.type = 'button';
  node.dataset.index = String(index);
  node.dataset.key = item.key;
  node.dataset.type = item.type;
  const words = caption(item);
  const label = [TYPE_NAMES[item.type] || item.type, item.time ? dayFormat.format(item.time) : '', item.user ? '@' + item.user : ''].filter(Boolean).join(', ');
  node.setAttribute('aria-label', label + (words ? ': ' + (words.length > 120 ? words.slice(0, 119) + '…' : words) : ''));
  if (item.type === 'photo') {
    const img = el('img');
    img.loading = 'lazy';
    img.decoding = 'async';
    img.alt = '';
    img.draggable = false;
    img.src = fileUrl(item.path);
    node.append(img);
  } else {
    const video = el('video');
    video.preload = 'none';
    video.muted = video.defaultMuted = video.loop = video.playsInline = video.disablePictureInPicture = true;
    video.tabIndex = -1;
    video.src = fileUrl(item.path);
    video.addEventListener('playing', () => node.classList.add('playing'));
    video.addEventListener('pause', () => node.classList.remove('playing'));
    node.append(video, $('play-icon').content.cloneNode(true));
    if (item.type === 'animated_gif' && !reduceMotion) preview(node, true);
  }
  const badge = item.type === 'animated_gif' ? 'GIF' : item.type === 'video' ? (item.duration !== undefined ? clock(item.duration) : 'VIDEO') : '';
  if (badge) node.append(el('span', 'badge', badge));
  const cap = el('span', 'cap');
  const snippet = el('span', '', words);
  snippet.dir = 'auto';
  cap.append(el('b', '', item.time ? dayFormat.format(item.time) : ''), snippet);
  node.append(cap);
  return node;
}

/** Videos play muted in their tile while pointed at or focused; GIFs loop on their own. */
function preview(node, on) {
  const video = node && node.querySelector('video');
  if (!video) return;
  if (on) video.play().catch(() => undefined);
  else if (node.dataset.type !== 'animated_gif' || reduceMotion) video.pause();
}

const tileOf = (target) => (target instanceof Element ? target.closest('.tile') : null);
grid.addEventListener('click', (event) => {
  const node = tileOf(event.target);
  if (node) openDetail(Number(node.dataset.index));
});
grid.addEventListener('pointerover', (event) => preview(tileOf(event.target), true));
grid.addEventListener('pointerout', (event) => {
  const node = tileOf(event.target);
  if (node && !node.contains(event.relatedTarget)) preview(node, false);
});
grid.addEventListener('focusin', (event) => preview(tileOf(event.target), true));
grid.addEventListener('focusout', (event) => preview(tileOf(event.target), false));

/** Arrow keys move between tiles (Home and End to the ends), scrolling them into view. */
grid.addEventListener('keydown', (event) => {
  const node = tileOf(event.target);
  const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns, Home: -Infinity, End: Infinity }[event.key];
  if (!node || step === undefined || event.altKey || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  focusTile(Math.min(view.length - 1, Math.max(0, Number(node.dataset.index) + step)));
});

function focusTile(index) {
  if (index < 0 || index >= view.length) return;
  const y = grid.getBoundingClientRect().top + scrollY + Math.floor(index / columns) * rowHeight;
  const covered = getComputedStyle(header).position === 'sticky' ? header.offsetHeight : 0;
  if (y - covered - 8 < scrollY) scrollTo(0, y - covered - 8);
  else if (y + size + 8 > scrollY + innerHeight) scrollTo(0, y + size + 8 - innerHeight);
  render();
  tiles.get(index)?.focus({ preventScroll: true });
}

addEventListener('scroll', () => {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => { scheduled = false; render(); });
}, { passive: true });
addEventListener('resize', () => { layout(); render(); });
`;
