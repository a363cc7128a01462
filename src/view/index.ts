/** The offline viewer: `<out>/index.html` and its data file, opened from file:// with no server. */
export { DATA_FILE, type ViewItem } from './data.js';
export { PAGE_FILE } from './page.js';
export { writeViewer } from './write.js';
