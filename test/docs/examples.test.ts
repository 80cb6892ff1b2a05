/**
 * The TypeScript examples of README.md and docs/API.md type-check under `tsc --strict` against the
 * package's own types, with the settings of `flint run --typecheck`, each ```ts block as a module of
 * its own (blocks that are not meant to compile are tagged otherwise, e.g. ```text).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { strictOptions } from '../../host/node/typecheck.js';

const root = resolve(__dirname, '../..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

interface Block {
  doc: string;
  line: number;
  code: string;
}

function tsBlocks(doc: string): Block[] {
  const text = readFileSync(join(root, doc), 'utf8');
  const blocks: Block[] = [];
  for (const m of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    blocks.push({ doc, line: text.slice(0, m.index).split('\n').length + 1, code: m[1]! });
  }
  return blocks;
}

describe('documentation examples', () => {
  it('every TypeScript block of README.md and docs/API.md type-checks under --strict', () => {
    const blocks = ['README.md', 'docs/API.md'].flatMap(tsBlocks);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const dir = mkdtempSync(join(tmpdir(), 'flint-doc-examples-'));
    try {
      const files = blocks.map((b, i) => {
        const file = join(dir, `block${i}.ts`);
        // Each block is a module: its top-level await and names are its own.
        writeFileSync(file, `${b.code}\nexport {};\n`);
        return file;
      });
      const options = strictOptions([join(root, 'node_modules', '@types')], join(root, 'dist', 'types', 'host', 'index.d.ts'));
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files }));
      const r = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { cwd: dir, encoding: 'utf8' });
      // Diagnostics name blockN.ts(line,col): point them back at the document.
      const report = `${r.stdout}${r.stderr}`.replace(/block(\d+)\.ts\((\d+),(\d+)\)/g, (_, i: string, line: string, col: string) => {
        const b = blocks[Number(i)]!;
        return `${b.doc}:${b.line + Number(line) - 1}:${col}`;
      });
      expect(report).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
