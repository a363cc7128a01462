/**
 * The large view: a modal <dialog> (focus stays inside, Escape closes it) with the media, the
 * tweet's text, date, alt text, sizes and a link to the tweet; arrow keys step through the
 * filtered items. Part of the page script (see script.ts).
 */
export const DETAIL = String.raw`
const dialog = $('detail'), stage = $('d-stage');
let current = -1;

function openDetail(index) {
  current = index;
  showDetail();
  if (!dialog.open) dialog.showModal();
}

/** https://x.com/<user>/status/<id>; "i" stands in for an unknown account, as x.com allows. */
function statusUrl(user, id) {
  if (!/^\d{1,20}$/.test(id || '')) return '';
  return 'https://x.com/' + (user && /^\w{1,50}$/.test(user) ? user : 'i') + '/status/' + id;
}

function byteSize(bytes) {
  if (bytes === undefined) return 'unknown';
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes, unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
  const short = unit === 0 ? numberFormat.format(value) + ' bytes' : value.toFixed(value < 10 ? 1 : 0) + ' ' + units[unit];
  return unit === 0 ? short : short + ' (' + numberFormat.format(bytes) + ' bytes)';
}

function clearStage() {
  for (const media of stage.querySelectorAll('.media')) {
    if (media instanceof HTMLVideoElement) { media.pause(); media.removeAttribute('src'); media.load(); }
    media.remove();
  }
}

function showDetail() {
  const item = view[current];
  if (!item) return;
  clearStage();
  let media;
  if (item.type === 'photo') {
    media = el('img', 'media');
    media.alt = item.alt || '';
  } else {
    media = el('video', 'media');
    media.controls = media.autoplay = media.playsInline = true;
    media.preload = 'metadata';
    if (item.type === 'animated_gif') media.loop = media.muted = true;
  }
  media.src = fileUrl(item.path);
  stage.prepend(media);

  $('d-who').textContent = item.user ? '@' + item.user : 'Unknown account';
  const when = $('d-when');
  when.textContent = item.time ? whenFormat.format(item.time) + ' UTC' : 'Date unknown';
  when.dateTime = item.time ? new Date(item.time).toISOString() : '';
  $('d-text').textContent = item.text || '';
  $('d-text').hidden = !item.text;
  $('d-notext').hidden = item.text !== undefined;
  $('d-alt').textContent = item.alt || '';
  $('d-alt-box').hidden = !item.alt;

  const meta = $('d-meta');
  meta.replaceChildren();
  const row = (name, value) => meta.append(el('dt', '', name), el('dd', '', value));
  row('Type', TYPE_NAMES[item.type] || item.type);
  row('Size', byteSize(item.bytes));
  if (item.width && item.height) row('Pixels', numberFormat.format(item.width) + ' × ' + numberFormat.format(item.height));
  if (item.duration !== undefined) row('Duration', clock(item.duration));
  row('File', item.path);
  row('Tweet', item.tweet);

  const link = $('d-link'), source = $('d-source');
  const own = statusUrl(item.user, item.tweet), original = item.source ? statusUrl(item.sourceUser, item.source) : '';
  link.hidden = !own;
  if (own) link.href = own;
  source.hidden = !original;
  if (original) {
    source.href = original;
    source.textContent = 'Original post' + (item.sourceUser ? ' by @' + item.sourceUser : '');
  }
  $('d-pos').textContent = numberFormat.format(current + 1) + ' of ' + numberFormat.format(view.length);
  $('d-prev').disabled = current <= 0;
  $('d-next').disabled = current >= view.length - 1;
}

function step(by) {
  const index = current + by;
  if (index < 0 || index >= view.length) return;
  current = index;
  showDetail();
}

$('d-close').addEventListener('click', () => dialog.close());
$('d-prev').addEventListener('click', () => step(-1));
$('d-next').addEventListener('click', () => step(1));
// A click on the backdrop lands on the dialog itself (its content fills the box).
dialog.addEventListener('click', (event) => { if (event.target === dialog) dialog.close(); });
dialog.addEventListener('keydown', (event) => {
  const by = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
  if (by === undefined || event.target instanceof HTMLVideoElement || event.altKey || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  step(by);
});
dialog.addEventListener('close', () => {
  clearStage();
  focusTile(current);
});
`;
