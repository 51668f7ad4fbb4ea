// The scenarios in the order they run. Each `run(ctx)` returns its figures. The peers
// (scenario 6) run inside the fan-out and resume scenarios, on the same workload in the same run.
import { appendScenario } from './append.mjs';
import { runFanout } from './fanout.mjs';
import { resumeScenario } from './resume.mjs';
import { idleScenario } from './idle.mjs';
import { stormScenario } from './storm.mjs';
import { ratio } from '../lib/stats.mjs';

async function fanoutScenario(ctx) {
  const systems = {};
  for (const key of ['sessionwire', 'socketio', 'resumable']) systems[key] = await runFanout(key, ctx);
  const ours = systems.sessionwire.best;
  const vs = (peer) => ({
    deliveredPerSec: ratio(ours?.deliveredPerSec, systems[peer].best?.deliveredPerSec),
    p99: ratio(ours?.p99, systems[peer].best?.p99),
    saturationRate: ratio(systems.sessionwire.saturationRate, systems[peer].saturationRate),
  });
  return { systems, oursOverPeer: { socketio: vs('socketio'), resumable: vs('resumable') } };
}

export const SCENARIOS = [
  { key: 'fanout', title: '1. Fan-out across 2 nodes (with peers, scenario 6)', run: fanoutScenario },
  { key: 'resume', title: '2. Resume cost vs gap (with peers, scenario 6)', run: resumeScenario },
  { key: 'idle', title: '3. Idle streams on one API node', run: idleScenario },
  { key: 'storm', title: '4. Reconnect storm: kill node A, all resume on node B', run: stormScenario },
  { key: 'append', title: '5. Append path: EventStore.append vs pgbench', run: appendScenario },
];
