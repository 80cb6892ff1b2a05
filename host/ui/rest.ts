/**
 * The REST API's routes, with Spark's monitoring API paths under /api/v1 and a few Flint additions
 * the dashboard draws from (a job's stage graph, a stage's task timeline, the application's event
 * timeline, the coordinator's workers and its own health). Environment-neutral: the local UI,
 * `flint history` and the coordinator serve the same routes over whatever applications they hold.
 */
import { appTimeline, jobGraph } from './graphs.js';
import {
  applicationInfo,
  executorsData,
  jobData,
  jobsData,
  rddStorage,
  stageAttempts,
  stageData,
  stagesData,
  storageData,
  taskList,
  taskSummary,
} from './rest-views.js';
import { stageKey, type AppStatusStore } from './status-store.js';
import { taskTimeline } from './task-timeline.js';
import type { ApplicationInfo, CoordinatorStatus, ExecutorSummary, UiInfo, WorkerSummary } from './types.js';

export interface StatusSource {
  info(): UiInfo;
  /** Newest first. */
  applications(): ApplicationInfo[];
  store(appId: string): AppStatusStore | null;
  /** The coordinator's executor slots across applications. */
  clusterExecutors?(): ExecutorSummary[];
  workers?(): WorkerSummary[];
  /** The coordinator's own state and its process's health. */
  coordinator?(): CoordinatorStatus;
}

export interface ApiResponse {
  status: number;
  /** JSON-serialisable value, or a message (sent as text) for errors. */
  body: unknown;
}

const notFound = (what: string): ApiResponse => ({ status: 404, body: `${what} not found` });
const bad = (what: string): ApiResponse => ({ status: 400, body: what });
const ok = (body: unknown): ApiResponse => ({ status: 200, body });

/** Spark's default quantiles for taskSummary. */
const SPARK_QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95];

function intParam(query: URLSearchParams, name: string): number | undefined | null {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : null;
}

function statuses(query: URLSearchParams): string[] {
  return query.getAll('status').flatMap((s) => s.split(',')).map((s) => s.trim().toUpperCase()).filter(Boolean);
}

export function routeApi(source: StatusSource, path: string, query: URLSearchParams): ApiResponse {
  const parts = path.replace(/^\/api\/v1\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [root, appId, section, ...rest] = parts;
  switch (root) {
    case undefined:
      return notFound(path);
    case 'version':
      return ok({ spark: '3.5.0-compatible', flint: '0.1.0' });
    case 'ui':
      return ok(source.info());
    case 'executors':
      return source.clusterExecutors ? ok(source.clusterExecutors()) : notFound('/api/v1/executors (a coordinator answers it)');
    case 'workers':
      return source.workers ? ok(source.workers()) : notFound('/api/v1/workers (a coordinator answers it)');
    case 'coordinator':
      return source.coordinator ? ok(source.coordinator()) : notFound('/api/v1/coordinator (a coordinator answers it)');
    case 'applications':
      break;
    default:
      return notFound(path);
  }
  if (appId === undefined) {
    const wanted = query.get('status')?.toLowerCase();
    let apps = source.applications();
    if (wanted === 'completed') apps = apps.filter((a) => a.attempts[0]?.completed);
    else if (wanted === 'running') apps = apps.filter((a) => !a.attempts[0]?.completed);
    const limit = intParam(query, 'limit');
    if (typeof limit === 'number') apps = apps.slice(0, limit);
    return ok(apps);
  }
  const store = source.store(appId);
  if (!store) return notFound(`application ${appId}`);
  return routeApp(store, section, rest, query);
}

function routeApp(store: AppStatusStore, section: string | undefined, rest: string[], query: URLSearchParams): ApiResponse {
  switch (section) {
    case undefined:
      return ok(applicationInfo(store));
    case 'jobs': {
      if (rest.length === 0) return ok(jobsData(store, statuses(query)));
      const job = store.jobs.get(Number(rest[0]));
      if (!job) return notFound(`job ${rest[0]}`);
      if (rest.length === 1) return ok(jobData(store, job));
      if (rest[1] === 'graph' && rest.length === 2) return ok(jobGraph(store, job));
      return notFound(`jobs/${rest.join('/')}`);
    }
    case 'stages':
      return routeStages(store, rest, query);
    case 'executors':
      return ok(executorsData(store, false));
    case 'allexecutors':
      return ok(executorsData(store, true));
    case 'storage': {
      if (rest[0] !== 'rdd') return notFound(`storage/${rest.join('/')}`);
      if (rest.length === 1) return ok(storageData(store));
      const info = rddStorage(store, Number(rest[1]), true);
      return info ? ok(info) : notFound(`RDD ${rest[1]}`);
    }
    case 'timeline':
      return ok(appTimeline(store));
    default:
      return notFound(section);
  }
}

function routeStages(store: AppStatusStore, rest: string[], query: URLSearchParams): ApiResponse {
  if (rest.length === 0) return ok(stagesData(store, statuses(query)));
  const stageId = Number(rest[0]);
  const details = query.get('details') !== 'false';
  if (rest.length === 1) {
    const attempts = stageAttempts(store, stageId, details);
    return attempts ? ok(attempts) : notFound(`stage ${rest[0]}`);
  }
  const attemptId = Number(rest[1]);
  const stage = store.stages.get(stageKey(stageId, attemptId));
  if (!stage) {
    // A stage that never ran has one attempt to show: pending or skipped.
    const attempts = rest.length === 2 && attemptId === 0 ? stageAttempts(store, stageId, details) : null;
    return attempts ? ok(attempts[0]) : notFound(`stage ${rest[0]} attempt ${rest[1]}`);
  }
  switch (rest[2]) {
    case undefined:
      return ok(stageData(store, stage, details, details || query.get('executorSummary') === 'true'));
    case 'taskSummary': {
      const raw = query.get('quantiles');
      const qs = raw ? raw.split(',').map(Number) : SPARK_QUANTILES;
      if (qs.some((q) => !(q >= 0 && q <= 1))) return bad(`quantiles must be numbers between 0 and 1, got ${raw}`);
      return ok(taskSummary(stage, qs));
    }
    case 'taskList': {
      const offset = intParam(query, 'offset');
      const length = intParam(query, 'length');
      if (offset === null || length === null) return bad('offset and length must be integers');
      return ok(taskList(store, stage, { offset, length, sortBy: query.get('sortBy') ?? undefined, status: query.get('status') ?? undefined }));
    }
    case 'taskTimeline': {
      const num = (name: string) => {
        const v = query.get(name);
        return v === null || v === '' ? undefined : Number(v);
      };
      return ok(taskTimeline(store, stage, { from: num('from'), to: num('to'), bins: num('bins') }));
    }
    default:
      return notFound(`stages/${rest.join('/')}`);
  }
}
