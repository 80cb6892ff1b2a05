/**
 * The dashboard's and the volunteer page's files: the page shells, and the bundles esbuild wrote to browser/build when the
 * package was built (scripts/build.mjs). Read once and kept in memory: a handful of files, served
 * offline, never from a CDN.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** browser/build, found from this module whether it runs from dist/ or from the sources. */
function buildDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'browser', 'build');
    if (existsSync(join(candidate, 'dashboard.js'))) return candidate;
    dir = dirname(dir);
  }
  return null;
}

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path fill="#f97316" d="M16 2c2 6 9 9 9 17a9 9 0 0 1-18 0c0-5 3-8 5-10 0 3 1 5 3 6-1-5 0-9 1-13z"/><path fill="#fde68a" d="M16 16c1 3 4 4 4 8a4 4 0 0 1-8 0c0-2 1-4 2-5 0 1 1 2 2 2-1-2 0-4 0-5z"/></svg>`;

let cache: Map<string, Asset> | null = null;

function load(): Map<string, Asset> {
  if (cache) return cache;
  const assets = new Map<string, Asset>();
  assets.set('favicon.svg', { type: TYPES['.svg']!, body: Buffer.from(ICON) });
  const dir = buildDir();
  if (dir) {
    for (const name of ['dashboard.js', 'dashboard.css', 'dashboard.js.map', 'volunteer.js', 'volunteer.css', 'volunteer.js.map', 'volunteer-executor.js', 'volunteer-executor.js.map']) {
      const file = join(dir, name);
      if (existsSync(file)) assets.set(name, { type: TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream', body: readFileSync(file) });
    }
  }
  cache = assets;
  return assets;
}

export function asset(name: string): Asset | undefined {
  return load().get(name);
}

/** The page shell every dashboard route answers with; the bundle routes on the client. */
export function indexHtml(title: string): string {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const missing = !load().has('dashboard.js')
    ? '<p style="font:15px system-ui;margin:2rem">The dashboard bundle is missing: run <code>npm run build</code> in the Flint package.</p>'
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(title)}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/dashboard.css">
</head>
<body>
<div id="app">${missing}</div>
<script type="module" src="/static/dashboard.js"></script>
</body>
</html>
`;
}
