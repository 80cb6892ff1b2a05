/**
 * The page's data: REST reads, the live stream, and the router. Views read everything through the
 * REST API (what the page shows is what the API says) and read again when the live stream says
 * their application changed.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LiveChange, UiInfo } from '../../host/ui/types.js';

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const api = (appId: string, rest = '') => `/api/v1/applications/${encodeURIComponent(appId)}${rest}`;

// ---- live stream ---------------------------------------------------------------------------------

type LiveState = 'connecting' | 'live' | 'reconnecting';
type Listener = (change: LiveChange | null) => void;

const listeners = new Set<Listener>();
const stateListeners = new Set<(s: LiveState) => void>();
let liveState: LiveState = 'connecting';
let lastSeq = 0;
let lastChangeAt = 0;
let source: EventSource | null = null;

function setState(s: LiveState): void {
  liveState = s;
  for (const l of stateListeners) l(s);
}

/** One EventSource for the page; a reconnect makes every view read again (nothing is missed). */
export function startLive(): void {
  if (source) return;
  source = new EventSource('/live');
  source.addEventListener('hello', (e) => {
    const wasReconnect = liveState === 'reconnecting';
    lastSeq = (JSON.parse((e as MessageEvent).data) as { seq: number }).seq;
    setState('live');
    if (wasReconnect) for (const l of listeners) l(null);
  });
  source.onmessage = (e) => {
    const change = JSON.parse(e.data) as LiveChange;
    lastSeq = change.seq;
    lastChangeAt = Date.now();
    for (const l of listeners) l(change);
  };
  source.onerror = () => setState('reconnecting');
}

export function liveInfo(): { seq: number; at: number } {
  return { seq: lastSeq, at: lastChangeAt };
}

export function useLiveState(): LiveState {
  const [s, set] = useState(liveState);
  useEffect(() => {
    stateListeners.add(set);
    // The stream may have opened between the first render and this subscription.
    set(liveState);
    return () => void stateListeners.delete(set);
  }, []);
  return s;
}

/** Which changes a view cares about: its application, optionally only some of its stages. */
export interface Interest {
  appId?: string;
  stageId?: number;
  applications?: boolean;
  cluster?: boolean;
}

function concerns(change: LiveChange | null, interest: Interest): boolean {
  if (change === null) return true;
  if (interest.applications && change.applications) return true;
  if (interest.cluster && change.cluster) return true;
  if (interest.appId !== undefined) {
    const c = change.apps[interest.appId];
    if (!c) return false;
    return interest.stageId === undefined || c.stages.includes(interest.stageId);
  }
  return false;
}

/**
 * Reads `path` now and again whenever the live stream reports a change the view cares about. One
 * read at a time: changes that arrive during a read cause exactly one more read after it.
 */
export function useApi<T>(path: string | null, interest: Interest): { data: T | null; error: string | null; version: number } {
  const [state, setState] = useState<{ data: T | null; error: string | null; version: number }>({ data: null, error: null, version: 0 });
  const key = JSON.stringify(interest);
  const pathRef = useRef(path);
  pathRef.current = path;
  useEffect(() => {
    if (path === null) return;
    let cancelled = false;
    let inFlight = false;
    let again = false;
    const read = () => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      getJson<T>(path).then(
        (data) => {
          inFlight = false;
          if (cancelled) return;
          setState((s) => ({ data, error: null, version: s.version + 1 }));
          if (again) {
            again = false;
            read();
          }
        },
        (err: Error) => {
          inFlight = false;
          if (!cancelled) setState((s) => ({ ...s, error: err.message }));
        },
      );
    };
    setState({ data: null, error: null, version: 0 });
    read();
    const listener: Listener = (change) => {
      if (concerns(change, interest)) read();
    };
    listeners.add(listener);
    return () => {
      cancelled = true;
      listeners.delete(listener);
    };
  }, [path, key]);
  return state;
}

/** Refreshes a view that shows elapsed times while its application runs. */
export function useTicker(active: boolean, ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [active, ms]);
  return now;
}

// ---- router --------------------------------------------------------------------------------------

const routeListeners = new Set<() => void>();

export function navigate(to: string): void {
  if (to === location.pathname + location.search) return;
  history.pushState(null, '', to);
  for (const l of routeListeners) l();
  window.scrollTo(0, 0);
}

export function useRoute(): string {
  const [path, setPath] = useState(location.pathname + location.search);
  useEffect(() => {
    const update = () => setPath(location.pathname + location.search);
    routeListeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      routeListeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return path;
}

/** Same-origin links navigate without a reload. */
export function interceptLinks(): void {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element).closest('a');
    if (!a || a.target || a.origin !== location.origin || a.hasAttribute('download')) return;
    e.preventDefault();
    navigate(a.pathname + a.search);
  });
}

export async function uiInfo(): Promise<UiInfo> {
  return getJson<UiInfo>('/api/v1/ui');
}
