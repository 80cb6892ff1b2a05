/**
 * The volunteer page: opening it makes this tab an executor of the cluster that served it, and
 * shows a person what their browser is doing, with a way to pause, to lend fewer or more cores,
 * and to leave at any moment.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { WorkerHost, WorkerStatus } from '../../host/cluster/worker-host.js';
import { parseChaos, type ChaosSpec } from '../../host/exec/chaos.js';
import { startVolunteer } from './volunteer-host.js';
import './styles.css';

const params = new URLSearchParams(location.search);
const token = params.get('token') ?? '';
const maxCores = Math.max(1, navigator.hardwareConcurrency || 1);
const defaultCores = Math.max(1, maxCores - 1);
const requested = Number(params.get('cores'));
const initialCores = Number.isInteger(requested) && requested >= 1 ? requested : defaultCores;
let chaos: ChaosSpec | null = null;
let chaosError: string | null = null;
try {
  chaos = params.get('chaos') ? parseChaos(params.get('chaos')!) : null;
} catch (err) {
  chaosError = (err as Error).message;
}
// The address bar keeps no secret once the page has it.
if (params.has('token')) history.replaceState(null, '', location.pathname + (params.get('cores') ? `?cores=${params.get('cores')}` : ''));

const initial: WorkerStatus = { connection: 'connecting', detail: null, applications: [], cores: initialCores, busy: 0, tasksDone: 0, tasksFailed: 0, cpuMs: 0, bytesIn: 0, bytesOut: 0, links: { directLinks: 0, directBytesIn: 0, directBytesOut: 0, relayedBytesIn: 0, relayedBytesOut: 0 } };

function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

const LABEL: Record<WorkerStatus['connection'], string> = {
  connecting: 'Connecting',
  connected: 'Connected',
  reconnecting: 'Reconnecting',
  refused: 'Not allowed',
  leaving: 'Leaving',
  left: 'Left',
};

/** What the page says first: the tab's state in a sentence. */
function headlineOf(status: WorkerStatus, paused: boolean, connected: boolean): string {
  const cores = `${status.cores} core${status.cores === 1 ? '' : 's'}`;
  if (status.connection === 'refused') return 'This tab could not join the cluster';
  if (status.connection === 'left') return 'This tab has left the cluster';
  if (status.connection === 'leaving') return 'Leaving: handing on its work';
  if (paused) return 'Paused: this tab lends no cores';
  if (status.applications.length > 0) return `Lending ${cores} to ${status.applications.join(', ')}`;
  if (connected) return `Ready to lend ${cores}: waiting for work`;
  if (status.connection === 'reconnecting') return 'The coordinator went away: trying again';
  return 'Joining the cluster…';
}

function App() {
  const [status, setStatus] = useState<WorkerStatus>(initial);
  const [host, setHost] = useState<WorkerHost | null>(null);
  const [paused, setPaused] = useState(false);
  const [cores, setCores] = useState(initialCores);
  const [log, setLog] = useState<string[]>([]);

  useEffect(() => {
    if (!token) {
      setStatus({ ...initial, connection: 'refused', detail: 'this address has no token: open the volunteer link that flint serve printed' });
      return;
    }
    const h = startVolunteer({
      token,
      cores: initialCores,
      chaos,
      onStatus: setStatus,
      log: (m) => setLog((l) => [...l.slice(-7), `${new Date().toLocaleTimeString()} ${m}`]),
    });
    setHost(h);
    h.start().catch(() => undefined);
  }, []);

  const connected = status.connection === 'connected';
  // Left or on its way out: nothing more to lend.
  const leaving = status.connection === 'left' || status.connection === 'leaving';
  const state = paused && connected ? 'paused' : status.connection;
  const lend = (n: number) => {
    setCores(n);
    if (!paused) host?.setCores(n);
  };
  const headline = headlineOf(status, paused, connected);
  const refused = status.connection === 'refused';
  return (
    <div class="page">
      <header class="top">
        <span class="brand">
          <img class="flame" src="/volunteer/favicon.svg" alt="" width="20" height="20" /> Flint <span class="muted">volunteer</span>
        </span>
        <span class={`pill pill-${state}`} data-state={state}>
          <span class="dot" />
          {state === 'paused' ? 'Paused' : LABEL[status.connection]}
        </span>
      </header>
      <main>
        <section class="hero">
          <h1 data-field="headline">{headline}</h1>
          {status.detail && status.connection !== 'connected' && (
            <p class={`detail ${status.connection === 'refused' ? 'bad' : ''}`} data-field="detail">
              {status.detail}
            </p>
          )}
          {chaosError && <p class="detail bad">{chaosError}</p>}
          {chaos && <p class="detail warn">Misbehaving on purpose for a demonstration: {params.get('chaos')}</p>}
        </section>
        {refused ? (
          <section class="card help">
            Ask whoever runs the cluster for its volunteer link: <code>flint serve</code> prints it as{' '}
            <code>volunteer: http://…/volunteer?token=…</code>. The token is what lets a tab in.
          </section>
        ) : (
          <>
            <section class="cards">
              <div class="card">
                <div class="label">Cores busy</div>
                <div class="value" data-field="busy">
                  {status.busy}
                  <span class="of"> / {paused ? 0 : status.cores}</span>
                </div>
              </div>
              <div class="card">
                <div class="label">Tasks done</div>
                <div class="value" data-field="tasks">
                  {status.tasksDone.toLocaleString('en-US')}
                </div>
                {status.tasksFailed > 0 && <div class="sub">{status.tasksFailed} failed</div>}
              </div>
              <div class="card">
                <div class="label">CPU time lent</div>
                <div class="value" data-field="cpu">
                  {formatDuration(status.cpuMs)}
                </div>
              </div>
              <div class="card">
                <div class="label">Data exchanged</div>
                <div class="value" data-field="bytes">
                  {formatBytes(status.bytesIn + status.bytesOut)}
                </div>
                <div class="sub">
                  {formatBytes(status.bytesIn)} in · {formatBytes(status.bytesOut)} out
                </div>
                <div
                  class="sub"
                  data-field="links"
                  data-direct-bytes={status.links.directBytesIn + status.links.directBytesOut}
                  data-relayed-bytes={status.links.relayedBytesIn + status.links.relayedBytesOut}
                >
                  {status.links.directLinks} direct link{status.links.directLinks === 1 ? '' : 's'} ·{' '}
                  {formatBytes(status.links.relayedBytesIn + status.links.relayedBytesOut)} relayed
                </div>
              </div>
            </section>
            <section class="controls">
              <div class="slots">
                <span class="label">Cores to lend</span>
                <button class="round" disabled={cores <= 1 || leaving} onClick={() => lend(cores - 1)} aria-label="fewer cores">
                  −
                </button>
                <span class="count" data-field="cores">
                  {cores}
                </span>
                <button class="round" disabled={cores >= maxCores || leaving} onClick={() => lend(cores + 1)} aria-label="more cores">
                  +
                </button>
                <span class="muted">of {maxCores} on this device</span>
              </div>
              <div class="buttons">
                <button
                  data-action="pause"
                  disabled={!host || leaving || status.connection === 'refused'}
                  onClick={() => {
                    host?.setCores(paused ? cores : 0);
                    setPaused(!paused);
                  }}
                >
                  {paused ? 'Resume' : 'Pause'}
                </button>
                <button data-action="leave" class="danger" disabled={!host || leaving} onClick={() => host?.decommission()}>
                  Leave
                </button>
              </div>
            </section>
          </>
        )}
        <section class="about">
          <p>
            Tasks run in Web Workers of this tab, away from this page and from your files: they see only the data the
            job sends them. What this tab computes is checked against what other computers compute before it counts.
            Close the tab or press Leave to stop at any moment.
          </p>
          {host && !refused && (
            <p class="muted">
              This tab is worker <code data-field="worker-id">{host.workerId}</code> of the cluster at {location.host}.
            </p>
          )}
          {log.length > 0 && (
            <details>
              <summary>Activity</summary>
              <ul class="log">
                {log.map((l) => (
                  <li>{l}</li>
                ))}
              </ul>
            </details>
          )}
        </section>
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
