/**
 * The Flint dashboard: one page for the local application UI, `flint history` and the coordinator,
 * routed in the browser. It reads the REST API and follows the live stream (server-sent events).
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ApplicationInfo, UiInfo } from '../../host/ui/types.js';
import { api, interceptLinks, liveInfo, navigate, startLive, uiInfo, useApi, useLiveState, useRoute, useTicker } from './api.js';
import { ErrorBox, Loading, Status } from './components/ui.js';
import { duration } from './format.js';
import { ApplicationsPage } from './pages/applications.js';
import { ClusterPage } from './pages/cluster.js';
import { ExecutorsPage } from './pages/executors.js';
import { JobPage } from './pages/job.js';
import { JobsPage } from './pages/jobs.js';
import { StagePage } from './pages/stage.js';
import { StagesPage } from './pages/stages.js';
import { StoragePage } from './pages/storage.js';
import './styles.css';
import 'uplot/dist/uPlot.min.css';

type Route =
  | { page: 'home' }
  | { page: 'applications' }
  | { page: 'jobs' | 'stages' | 'executors' | 'storage'; appId: string }
  | { page: 'job'; appId: string; jobId: number }
  | { page: 'stage'; appId: string; stageId: number; attempt: number }
  | { page: 'notFound' };

function parse(path: string): Route {
  const parts = path.split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: 'home' };
  if (parts[0] === 'applications' && parts.length === 1) return { page: 'applications' };
  if (parts[0] !== 'app' || !parts[1]) return { page: 'notFound' };
  const appId = parts[1];
  const [section, a, b] = parts.slice(2);
  switch (section) {
    case undefined:
    case 'jobs':
      return a === undefined ? { page: 'jobs', appId } : { page: 'job', appId, jobId: Number(a) };
    case 'stages':
      return a === undefined ? { page: 'stages', appId } : { page: 'stage', appId, stageId: Number(a), attempt: Number(b ?? 0) };
    case 'executors':
    case 'storage':
      return { page: section, appId };
    default:
      return { page: 'notFound' };
  }
}

function LiveIndicator(props: { mode: UiInfo['mode']; running: boolean }) {
  const state = useLiveState();
  useTicker(true, 1000);
  if (props.mode === 'history' && !props.running) return <span class="live live-off">from event log</span>;
  if (state !== 'live') return <span class="live live-bad">{state === 'connecting' ? 'connecting…' : 'reconnecting…'}</span>;
  const { at, seq } = liveInfo();
  const ago = at ? Math.max(0, Date.now() - at) : null;
  return (
    <span class="live live-on" title={`${seq.toLocaleString('en-US')} events applied`} data-seq={seq}>
      <span class="pulse" /> live{ago !== null && ago < 60_000 ? ` · updated ${ago < 1500 ? 'just now' : `${Math.round(ago / 1000)} s ago`}` : ''}
    </span>
  );
}

function AppNav(props: { appId: string; route: Route; info: UiInfo }) {
  const { data: app } = useApi<ApplicationInfo>(api(props.appId), { appId: props.appId, applications: true });
  const attempt = app?.attempts[0];
  const running = !!attempt && !attempt.completed;
  useTicker(running, 1000);
  const tab = (page: string, label: string, href: string) => (
    <a class={props.route.page === page || (page === 'jobs' && props.route.page === 'job') || (page === 'stages' && props.route.page === 'stage') ? 'nav-tab active' : 'nav-tab'} href={href}>
      {label}
    </a>
  );
  const base = `/app/${encodeURIComponent(props.appId)}`;
  const elapsed = attempt ? (attempt.completed ? attempt.duration : Date.now() - attempt.startTime) : null;
  return (
    <div class="appbar">
      <div class="appbar-title">
        <span class="app-name" title={props.appId}>
          {app?.name ?? props.appId}
        </span>
        {attempt && <Status status={attempt.completed ? 'COMPLETE' : props.info.mode === 'history' ? 'UNKNOWN' : 'RUNNING'} />}
        <span class="app-meta">
          <span class="mono">{props.appId}</span>
          {app?.master && <span> · {app.master}</span>}
          {elapsed !== null && <span> · {duration(elapsed)}</span>}
          {attempt?.sparkUser && <span> · {attempt.sparkUser}</span>}
        </span>
      </div>
      <nav class="nav-tabs">
        {tab('jobs', 'Jobs', `${base}/jobs`)}
        {tab('stages', 'Stages', `${base}/stages`)}
        {tab('executors', 'Executors', `${base}/executors`)}
        {tab('storage', 'Storage', `${base}/storage`)}
      </nav>
    </div>
  );
}

function App(props: { info: UiInfo }) {
  const path = useRoute();
  const route = parse(path);
  const { info } = props;
  const apps = useApi<ApplicationInfo[]>(info.mode === 'local' && route.page === 'home' ? '/api/v1/applications' : null, { applications: true });
  useEffect(() => {
    if (route.page === 'home' && info.mode === 'local' && apps.data?.[0]) navigate(`/app/${encodeURIComponent(apps.data[0].id)}/jobs`);
  }, [route.page, apps.data]);
  const appId = 'appId' in route ? route.appId : null;
  useEffect(() => {
    document.title = `${appId ? `${appId} · ` : ''}${info.title}`;
  }, [appId]);
  let body;
  switch (route.page) {
    case 'home':
      body = info.mode === 'cluster' ? <ClusterPage info={info} /> : info.mode === 'history' ? <ApplicationsPage info={info} /> : <Loading />;
      break;
    case 'applications':
      body = <ApplicationsPage info={info} />;
      break;
    case 'jobs':
      body = <JobsPage appId={route.appId} />;
      break;
    case 'job':
      body = <JobPage appId={route.appId} jobId={route.jobId} />;
      break;
    case 'stages':
      body = <StagesPage appId={route.appId} />;
      break;
    case 'stage':
      body = <StagePage appId={route.appId} stageId={route.stageId} attempt={route.attempt} />;
      break;
    case 'executors':
      body = <ExecutorsPage appId={route.appId} />;
      break;
    case 'storage':
      body = <StoragePage appId={route.appId} />;
      break;
    default:
      body = <ErrorBox error={`No page at ${path}.`} />;
  }
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href="/">
          <img src="/static/favicon.svg" alt="" width="22" height="22" />
          <span>Flint</span>
        </a>
        {info.mode !== 'local' && (
          <nav class="top-links">
            {info.mode === 'cluster' && (
              <a class={route.page === 'home' ? 'active' : ''} href="/">
                Cluster
              </a>
            )}
            <a class={route.page === 'applications' || (info.mode === 'history' && route.page === 'home') ? 'active' : ''} href="/applications">
              Applications
            </a>
          </nav>
        )}
        <span class="top-context">{info.mode === 'cluster' ? info.master : info.mode === 'history' ? 'History server' : 'Application UI'}</span>
        <span class="spacer" />
        <LiveIndicator mode={info.mode} running={info.mode !== 'history'} />
      </header>
      {appId && <AppNav appId={appId} route={route} info={info} />}
      <main class="content">{body}</main>
    </div>
  );
}

function Boot() {
  const [info, setInfo] = useState<UiInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    uiInfo().then(setInfo, (err: Error) => setError(err.message));
    startLive();
    interceptLinks();
  }, []);
  if (error) return <ErrorBox error={`The dashboard cannot reach its server: ${error}`} />;
  if (!info) return <Loading />;
  return <App info={info} />;
}

render(<Boot />, document.getElementById('app')!);
