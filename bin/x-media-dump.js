#!/usr/bin/env node
import v8 from 'node:v8';

// Flat memory on big downloads (a 1 GB video peaks under 100 MB RSS, not ~120): a transfer
// makes only short-lived garbage, so the young generation need not grow past its first size;
// and undici's llhttp WebAssembly stays on the baseline compiler, as TurboFan's recompile of it
// briefly takes ~30 MB. Set before anything is loaded, and only on the Node majors they were
// measured on: V8 warns on stderr about a flag it no longer knows.
if (/^2[0-4]\./.test(process.versions.node)) {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--liftoff-only');
}
await import('../dist/cli.js');
