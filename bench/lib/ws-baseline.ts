/**
 * Same-run baseline for shuffle throughput between processes: a bare `ws` server process streams
 * bytes to a bare `ws` client process on loopback, with the options Flint's links use (binary
 * frames, no compression, the same `ws` and its native helpers when installed). It is the ceiling a
 * shuffle between two `flint worker` processes could reach on this machine at this moment.
 */
import { spawn } from 'node:child_process';

const SERVER = `
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 2 ** 30 });
wss.on('listening', () => console.log('port ' + wss.address().port));
wss.on('connection', (ws) => ws.on('message', (m) => {
  const [count, size] = String(m).split(' ').map(Number);
  const chunk = Buffer.alloc(size, 7);
  for (let i = 0; i < count; i++) ws.send(chunk);
}));`;

const CLIENT = `
const WebSocket = require('ws');
const [url, count, size, rounds] = process.argv.slice(1);
const ws = new WebSocket(url, { maxPayload: 2 ** 30 });
ws.binaryType = 'arraybuffer';
let round = 0, got = 0, t0 = 0;
const go = () => { got = 0; t0 = performance.now(); ws.send(count + ' ' + size); };
ws.on('open', go);
ws.on('message', (data) => {
  got += data.byteLength;
  if (got < count * size) return;
  console.log('ms ' + (performance.now() - t0));
  if (++round < Number(rounds)) go(); else ws.close();
});`;

/** Milliseconds each of `rounds` transfers of `count` messages of `size` bytes took, server to client. */
export async function rawWebSocketTransfers(cwd: string, count: number, size: number, rounds: number): Promise<number[]> {
  const server = spawn(process.execPath, ['-e', SERVER], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      server.stdout.setEncoding('utf8');
      server.stdout.on('data', (s: string) => {
        const m = /port (\d+)/.exec(s);
        if (m) resolve(m[1]!);
      });
      server.once('exit', (code) => reject(new Error(`the baseline server exited with ${code}`)));
    });
    const client = spawn(process.execPath, ['-e', CLIENT, `ws://127.0.0.1:${port}`, String(count), String(size), String(rounds)], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    client.stdout.setEncoding('utf8');
    client.stdout.on('data', (s: string) => (out += s));
    const code = await new Promise<number | null>((resolve) => client.once('exit', resolve));
    const times = [...out.matchAll(/ms ([\d.]+)/g)].map((m) => Number(m[1]));
    if (code !== 0 || times.length !== rounds) throw new Error(`the baseline client failed (exit ${code}): ${out}`);
    return times;
  } finally {
    server.kill();
  }
}
