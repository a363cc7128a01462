import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './cli.js';

export interface FencedBlock {
  /** The info string's first word (`sh`, `js`, `json`, …). */
  lang: string;
  code: string;
  /** 1-based line of the opening fence in README.md. */
  line: number;
  /** The heading the block is under. */
  section: string;
}

/** Every fenced code block of README.md, in order, exactly as printed. */
export function readmeBlocks(file = path.join(REPO, 'README.md')): FencedBlock[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const blocks: FencedBlock[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (/^#{1,6} /.test(line)) section = line.replace(/^#+ /, '');
    const open = /^(`{3,})(\S*)/.exec(line);
    if (!open) continue;
    const fence = open[1] ?? '```';
    const start = i;
    const body: string[] = [];
    for (i += 1; i < lines.length && !(lines[i] ?? '').startsWith(fence); i++) body.push(lines[i] ?? '');
    blocks.push({ lang: open[2] ?? '', code: `${body.join('\n')}\n`, line: start + 1, section });
  }
  return blocks;
}
