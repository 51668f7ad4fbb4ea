// The scenarios in the order they run. Each `run(ctx)` returns its figures; `report(figures, out,
// lines)`, where a scenario has one, renders its section of benchmarks.md. The peers
// (scenario 6) run inside the fan-out and resume scenarios, on the same workload in the same run.
import { appendReport, appendScenario } from './append.mjs';
import { acceptReport, acceptScenario } from './accept.mjs';
import { capacityReport, capacityScenario } from './capacity.mjs';
import { partitionReport, partitionScenario } from './partitions.mjs';
import { runFanout } from './fanout.mjs';
import { workerFanoutScenario } from './fanout-workers.mjs';
import { resumeScenario } from './resume.mjs';
import { idleScenario } from './idle.mjs';
import { aiSdkResumeReport, aiSdkResumeScenario } from './ai-sdk-resume.mjs';
import { stormReport, stormScenario } from './storm.mjs';
import { ratio } from '../lib/stats.mjs';

async function fanoutScenario(ctx) {
  const systems = {};
  for (const key of ctx.systems ?? ['sessionwire', 'sessionwireOneCommit', 'socketio', 'resumable']) {
    systems[key] = await runFanout(key, ctx);
  }
  if (!systems.sessionwire || !systems.socketio || !systems.resumable) return { systems };
  // p99 compared at the highest rate all three systems sustained, so latencies are of one load
  const commonRate = Math.min(...['sessionwire', 'socketio', 'resumable'].map((key) => systems[key].best?.targetRate ?? 0)) || null;
  const at = (sys) => sys.steps.find((st) => st.targetRate === commonRate);
  const vs = (peer) => {
    const ours = systems.sessionwire;
    const theirs = systems[peer];
    return {
      commonRate,
      p99Ours: at(ours)?.latencyMs.p99 ?? null,
      p99Peer: at(theirs)?.latencyMs.p99 ?? null,
      p99: ratio(at(ours)?.latencyMs.p99, at(theirs)?.latencyMs.p99),
      sustainedRate: ratio(ours.best?.targetRate, theirs.best?.targetRate),
      deliveredPerSec: ratio(ours.best?.deliveredPerSec, theirs.best?.deliveredPerSec),
    };
  };
  return { systems, oursOverPeer: { socketio: vs('socketio'), resumable: vs('resumable') } };
}

export const SCENARIOS = [
  { key: 'fanout', title: '1. Fan-out across 2 nodes (with peers, scenario 6)', run: fanoutScenario },
  { key: 'workers', title: '1b. Fan-out with real workers producing', run: workerFanoutScenario },
  { key: 'resume', title: '2. Resume cost vs gap (with peers, scenario 6)', run: resumeScenario },
  { key: 'idle', title: '3. Idle streams on one API node', run: idleScenario },
  { key: 'storm', title: '4. Reconnect storm: kill node A, all resume on node B', run: stormScenario, report: stormReport },
  { key: 'append', title: '5. Append path: group commit vs pgbench', run: appendScenario, report: appendReport },
  { key: 'partitions', title: '5b. Partitioned log vs one table: append and read', run: partitionScenario, report: partitionReport },
  { key: 'capacity', title: '7. Capacity: sessions streaming at once through real workers', run: capacityScenario, report: capacityReport },
  { key: 'accept', title: '8. Accepting messages on 2 API nodes', run: acceptScenario, report: acceptReport },
  { key: 'aisdk', title: '9. AI SDK resume of a half-finished 2,000-token turn (with resumable-stream)', run: aiSdkResumeScenario, report: aiSdkResumeReport },
];
