/**
 * A process hosting many simulated volunteers (test/helpers/simulated-volunteer.ts), driven by its
 * parent (test/helpers/volunteer-fleet.ts) over Node's IPC channel: it joins them, reports each
 * join, each executor launched and each volunteer that is done, and makes volunteers leave on
 * request. Bundled by the parent with esbuild and run as a plain Node process.
 */
import { startSimulatedVolunteer, type SimulatedVolunteer } from './simulated-volunteer.js';
import type { FleetToChild, ChildToFleet } from './volunteer-fleet.js';

const volunteers = new Map<string, SimulatedVolunteer>();
const send = (m: ChildToFleet) => process.send?.(m);
let verbose = false;

process.on('message', (raw) => {
  const m = raw as FleetToChild;
  switch (m.t) {
    case 'start': {
      verbose = m.verbose;
      const started = Date.now();
      for (let i = 0; i < m.count; i++) {
        const webRtc = i < m.webRtc;
        let id = '';
        const v = startSimulatedVolunteer({
          httpUrl: m.httpUrl,
          token: m.token,
          webRtc,
          executorBundle: m.executorBundle,
          executorHeapMb: m.executorHeapMb,
          log: (line) => {
            if (verbose) process.stderr.write(`${id}: ${line}\n`);
          },
          onExecutor: (executorId) => send({ t: 'executor', workerId: id, executorId }),
        });
        id = v.workerId;
        volunteers.set(id, v);
        v.joined.then(
          () => send({ t: 'joined', workerId: id, webRtc, ms: Date.now() - started }),
          (err: Error) => send({ t: 'failed', workerId: id, message: err.message }),
        );
        void v.done.then((code) => send({ t: 'done', workerId: id, code }));
      }
      return;
    }
    case 'leave': {
      const v = volunteers.get(m.workerId);
      if (!v) return;
      if (m.how === 'decommission') v.decommission();
      else void v.crash();
      return;
    }
    case 'stats': {
      const mem = process.memoryUsage();
      send({ t: 'stats', reqId: m.reqId, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, maxRssBytes: process.resourceUsage().maxRSS * 1024 });
      return;
    }
    case 'stop':
      void Promise.all([...volunteers.values()].map((v) => v.host.stop().then(() => v.done))).then(() => process.exit(0));
      return;
  }
});
// The parent gone (killed, or a test runner that ended) means this process goes too.
process.on('disconnect', () => process.exit(0));
send({ t: 'ready' });
