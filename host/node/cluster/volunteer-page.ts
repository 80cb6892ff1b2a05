/**
 * `/volunteer` on the coordinator: the page that makes a browser tab an executor, and its two
 * bundles (the page, and the executor it runs in Web Workers). They are public code and carry no
 * data, so they are served without the token; the page then presents the token from its address
 * to every request and to its WebSocket, and says so when the coordinator refuses it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asset } from '../ui/static-assets.js';

const FILES: Record<string, string> = {
  '/volunteer/app.js': 'volunteer.js',
  '/volunteer/app.js.map': 'volunteer.js.map',
  '/volunteer/app.css': 'volunteer.css',
  '/volunteer/executor.js': 'volunteer-executor.js',
  '/volunteer/executor.js.map': 'volunteer-executor.js.map',
  '/volunteer/favicon.svg': 'favicon.svg',
};

const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Flint volunteer</title>
<link rel="icon" href="/volunteer/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/volunteer/app.css">
</head>
<body>
<div id="app"></div>
<script type="module" src="/volunteer/app.js"></script>
</body>
</html>
`;

/** Answers the volunteer page's paths; false for every other path. */
export function serveVolunteer(req: IncomingMessage, res: ServerResponse): boolean {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path === '/volunteer' || path === '/volunteer/') {
    const missing = !asset('volunteer.js');
    res.writeHead(missing ? 503 : 200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    res.end(missing ? '<p>The volunteer bundle is missing: run npm run build in the Flint package.</p>' : SHELL);
    return true;
  }
  const name = FILES[path];
  if (!name) return false;
  const file = asset(name);
  if (!file) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: ${path}`);
    return true;
  }
  res.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-store' });
  res.end(file.body);
  return true;
}
