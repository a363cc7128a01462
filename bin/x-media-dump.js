#!/usr/bin/env node
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

// Flat memory on big downloads (bench/README.md has the figures): a transfer makes only
// short-lived garbage, so the young generation need not grow past its first size; and undici's
// llhttp WebAssembly stays on the baseline compiler, as TurboFan's recompile of it briefly takes
// tens of MB. Set before anything is loaded, and only on the Node majors they were measured on:
// V8 warns on stderr about a flag it no longer knows.
if (/^2[0-4]\./.test(process.versions.node)) {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--liftoff-only');
}
const cli = new URL('../dist/cli.js', import.meta.url);
if (!fs.existsSync(cli)) {
  // A clone that was never built (the tarball ships dist/): say how, rather than a stack trace.
  process.stderr.write(`x-media-dump: ${fileURLToPath(cli)} is missing; run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
  process.exitCode = 2;
} else {
  await import(cli.href);
}
