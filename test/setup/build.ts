import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The end-to-end tests run the built CLI (dist/). A `dist/` older than any file under src/
 * would test yesterday's code without a word, so build first when it is stale.
 */
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function newest(dir: string): number {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

export default function setup(): void {
  const built = path.join(REPO, 'dist', 'cli.js');
  const builtAt = fs.existsSync(built) ? fs.statSync(built).mtimeMs : 0;
  if (builtAt >= newest(path.join(REPO, 'src'))) return;
  process.stderr.write('vitest: dist/ is older than src/; building it first (npm run build)\n');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO, stdio: 'inherit' });
}
