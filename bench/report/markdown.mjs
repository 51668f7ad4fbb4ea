// Writes benchmarks.md (tables, headline figures, charts as SVG files next to it).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { headline } from './headline.mjs';
import { lineChart } from './svg.mjs';
import { SCENARIOS } from '../scenarios/index.mjs';

const fmt = (v) => (v === null || v === undefined ? 'n/a' : typeof v === 'number' ? v.toLocaleString('en-US') : String(v));
const table = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`)].join('\n');

function fanoutSection(s, out, lines) {
  const { params } = Object.values(s.systems)[0];
  lines.push(`Workload: ${params.sessions} sessions × ${params.subscribersPerSession} subscribers (${params.streams} streams, half on each of 2 nodes); a producer process stamps its clock into each event; the rate steps up every ${params.stepMs / 1000} s until the producer falls behind, an event is lost, or p99 passes 250 ms.`, '');
  for (const sys of Object.values(s.systems)) {
    lines.push(`**${sys.system}** (saturates at ${fmt(sys.saturationRate)} events/s produced${sys.saturatedBy ? `, limited by ${sys.saturatedBy}` : ''})`, '');
    const commits = sys.steps.some((st) => st.appendTransactions != null);
    const stored = sys.steps.some((st) => st.storedMs);
    const stepSeconds = sys.params.stepMs / 1000;
    lines.push(table(
      ['target/s', 'produced/s', ...(commits ? ['commits/s'] : []), 'delivered/s', 'delivered/expected', 'p50 ms', 'p95 ms', 'p99 ms', ...(stored ? ['stored p50 / p99 ms', 'commit p50 / p99 ms'] : []), 'CPU % (node A, node B, producer, redis)', 'RSS MB (A, B)'],
      sys.steps.map((st) => [
        st.targetRate, st.producedPerSec,
        ...(commits ? [Math.round(st.appendTransactions / stepSeconds)] : []),
        st.deliveredPerSec, st.deliveryRatio, st.latencyMs.p50, st.latencyMs.p95, st.latencyMs.p99,
        ...(stored ? [`${st.storedMs?.p50} / ${st.storedMs?.p99}`, `${st.commitMs?.p50} / ${st.commitMs?.p99}`] : []),
        ['nodeA', 'nodeB', 'producer', 'redis'].map((n) => st.processes[n]?.cpuPct ?? 'n/a').join(', '),
        ['nodeA', 'nodeB'].map((n) => st.processes[n]?.rssMb ?? 'n/a').join(', '),
      ]),
    ), '');
  }
  const series = Object.values(s.systems).map((sys) => ({ label: sys.system, points: sys.steps.map((st) => [st.targetRate, st.latencyMs.p99]) }));
  writeFileSync(join(out, 'benchmarks-fanout.svg'), lineChart({ title: 'Fan-out: p99 append→client latency', xLabel: 'events/s produced (log)', yLabel: 'p99 ms', series, logX: true, yCap: 500 }));
  lines.push('![p99 latency vs rate](benchmarks-fanout.svg)', '');
  if (s.oursOverPeer) {
    lines.push('Ours / peer (p99 compared at the highest rate all three sustained):', '');
    lines.push(table(['peer', 'common rate/s', 'p99 ours ms', 'p99 peer ms', 'p99 ratio', 'highest sustained rate ratio'],
      Object.entries(s.oursOverPeer).map(([peer, r]) => [s.systems[peer].system, r.commonRate, r.p99Ours, r.p99Peer, r.p99, r.sustainedRate])), '');
  }
  lines.push('Sessionwire\'s producer commits every event to Postgres (EventStore.append through the write module: up to `APPEND_COMMITS_MAX` commits in flight, the appends of all sessions waiting meanwhile in the next one, one statement) before the commit hook publishes the hint, so its latency includes the commit; the peers publish straight to Redis and keep nothing. Events that fall due while a session\'s append is in flight go into its next append, as a worker\'s delta flush does. commits/s is the number of Postgres commits: below produced/s once commits carry several sessions\' appends. stored is the time from an event\'s stamp to its append being answered (queue, commit and hook: the write path\'s share of the latency), commit the time of each commit. The same producer with \`APPEND_COMMITS_MAX=1\` (one commit in flight, the next batch gathering meanwhile) runs beside it. Real workers coalesce deltas every 25 ms, so a running turn needs at most 40 appends per second (section 1b).', '');
}

function resumeSection(s, out, lines) {
  const rows = s.gaps.map((gap) => {
    const o = s.sessionwire.cases[gap];
    const p = s.resumable.cases[gap];
    const peerTime = p.failed
      ? `failed: ${p.failed}`
      : p.failedTrials
        ? `${fmt(p.doneMs)} (${p.failedTrials} of ${p.trials} trials failed: ${p.firstFailure})`
        : p.doneMs;
    return [gap, o.firstByteMs, o.doneMs, o.bytes, o.events, o.gapFrame ? 'yes' : 'no', peerTime, p.failed ? 'n/a' : p.bytes];
  });
  lines.push(`A session holding ${fmt(s.sessionwire.headSeq)} events; a client resumes N events behind head (median of repeats). Sessionwire: time until \`live\`; past MAX_REPLAY_GAP (${s.sessionwire.maxReplayGap}) it sends one \`gap\` frame with a history URL instead of replaying. resumable-stream: time until all N events arrived (frames of ${fmt(s.resumable.frameBytes)} bytes, the size of ours), the median of the trials that finished: its producer joins its whole in-memory buffer to answer a resume, and the consumer gives up when the first chunk takes more than a second (the library's fixed ack timeout), so a trial may fail with \`Timeout waiting for ack\`. Socket.IO: ${s.socketio.note}.`, '');
  lines.push(table(['N behind', 'ours: first byte ms', 'ours: live after ms', 'ours: bytes', 'ours: events replayed', 'ours: gap frame', 'resumable-stream: caught up ms', 'resumable-stream: bytes'], rows), '');
  lines.push(`Ratio of the ${fmt(s.ratioLargestTo200.gap)} case to the 200 case (Sessionwire): time ${fmt(s.ratioLargestTo200.doneMs)}, bytes ${fmt(s.ratioLargestTo200.bytes)}.`, '');
  const series = [
    { label: 'Sessionwire', points: s.gaps.map((g) => [g, s.sessionwire.cases[g].doneMs]) },
    { label: 'resumable-stream', points: s.gaps.map((g) => [g, s.resumable.cases[g].doneMs ?? null]) },
  ];
  writeFileSync(join(out, 'benchmarks-resume.svg'), lineChart({ title: 'Resume: time until caught up', xLabel: 'events behind (log)', yLabel: 'ms', series, logX: true }));
  lines.push('![resume time vs gap](benchmarks-resume.svg)', '');
}

function idleSection(x, _out, lines) {
  lines.push(`Each size is measured twice in the same run: one Sessionwire API node (every stream a session resting in SUSPENDED, streamed from its head over real Postgres and Redis), and the floor, a minimal SSE server on raw \`node:http\` (\`bench/peers/raw-sse-node.mjs\`: the same headers, \`retry:\` and \`live\` at open, one shared heartbeat timer writing the same heartbeat frame). Heartbeats every ${fmt(x.heartbeatMs)} ms, idle window ${fmt(x.idleMs)} ms: each stream is due at least ⌊window / interval⌋ heartbeats in it (*due*), and gets one more when the server's timer fires once more inside the window; a stream that got fewer than its due is counted as short. Memory is read after two forced full GCs through each server's V8 inspector: bytes per stream = (RSS with streams − RSS before) / streams, heap likewise from \`heapUsed\`. Clients run in separate processes, each from its own source address (127.0.0.2, 127.0.0.3, …, each with its own ephemeral ports, and none used by an earlier measurement: reopening from an address whose last 10,000 connections are still in TIME_WAIT was 3.4× slower here) holding at most 12,500 streams; servers and clients get \`ulimit -n\` raised up to the hard limit (${fmt(x.openFileLimits.hard)} here), and a size that needs more is skipped, with the most streams the hard limit lets one server hold measured in its place. Streams open in two halves; *second half, bytes per stream* = (RSS with all streams − RSS with the first half) / streams of the second half: what a stream adds once the code, pools and tables all streams share are in place and the first half's opening burst is behind.`, '');
  const rows = [];
  for (const size of x.sizes) {
    const run = x.runs[size];
    if (run.skipped) {
      rows.push([size, 'skipped', run.skipped, '', '', '', '', '', '', '', '', '']);
      continue;
    }
    for (const [key, label] of [['floor', 'raw node:http'], ['sessionwire', 'Sessionwire']]) {
      const r = run[key];
      rows.push([`${fmt(r.streams)}${run.insteadOf ? ` (in place of ${fmt(run.insteadOf)})` : ''}`, label, r.rssBaseMb, r.rssWithStreamsMb, r.bytesPerStream, r.heapBytesPerStream, r.secondHalfBytesPerStream ?? '', r.secondHalfHeapBytesPerStream ?? '', r.idleCpuPct, `${fmt(r.heartbeatsReceived)} / ${fmt(r.heartbeatsExpected)}${r.streamsShortOfHeartbeats ? ` (${fmt(r.streamsShortOfHeartbeats)} streams short)` : ''}`, r.openedPerSecond, r.failedToOpen]);
    }
    const ratios = run.oursOverFloor;
    rows.push([size, 'ours / floor', '', '', ratios.bytesPerStream, ratios.heapBytesPerStream, ratios.secondHalfBytesPerStream ?? '', ratios.secondHalfHeapBytesPerStream ?? '', ratios.idleCpuPct, '', ratios.openedPerSecond, '']);
  }
  lines.push(table(['streams', 'server', 'RSS before MB', 'RSS with streams MB', 'bytes per stream', 'heap bytes per stream', 'second half: bytes per stream', 'second half: heap bytes per stream', 'CPU % at idle', 'heartbeats received / due', 'opened per s', 'failed to open'], rows), '');
}

/**
 * With `--merge`: the existing benchmarks.md with the sections of the scenarios this run ran
 * replaced (or inserted before the peers' section), everything else kept as it was written.
 */
export function mergeReport(results, out, ran) {
  const path = join(out, 'benchmarks.md');
  if (!existsSync(path)) return writeReport(results, out);
  const split = (text) => text.split(/\n(?=## )/);
  const fresh = new Map();
  const rendered = renderReport({ ...results, scenarios: Object.fromEntries(ran.map((k) => [k, results.scenarios[k]])), errors: {} }, out);
  for (const section of split(rendered)) fresh.set(section.split('\n')[0], section);
  const sections = split(readFileSync(path, 'utf8').trimEnd());
  for (const key of ran) {
    const heading = `## ${results.scenarios[key].title}`;
    const at = sections.findIndex((section) => section.split('\n')[0] === heading);
    const peers = sections.findIndex((section) => section.startsWith('## Peers'));
    if (at >= 0) sections[at] = fresh.get(heading);
    else sections.splice(peers >= 0 ? peers : sections.length, 0, fresh.get(heading));
  }
  writeFileSync(path, `${sections.join('\n')}\n`);
}

export function writeReport(results, out) {
  writeFileSync(join(out, 'benchmarks.md'), `${renderReport(results, out)}\n`);
}

function renderReport(results, out) {
  const { scenarios: s, machine: m } = results;
  const lines = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\`${results.quick ? ' --quick (tiny sizes: a smoke test, not figures)' : ''} on ${results.generatedAt} in ${results.totalSeconds} s${results.merged ? ' (with the scenarios it did not run kept from earlier runs: each section says when it ran)' : ''}: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}, PostgreSQL ${m.postgres}, Redis ${m.redis}. Everything ran on this one machine: servers, Postgres, Redis, producers and load clients (each in its own process), so absolute figures are low and the ratios, measured in the same run on the same workload, are the point. The machine is shared with other work and the fan-out saturation step moves between runs (by up to 4× in our runs): compare systems within one run. Every figure is also in \`benchmarks.json\`.`,
    '',
    '## Headline',
    '',
    table(['figure', 'value'], Object.entries(headline(results)).map(([k, v]) => [k, v])),
    '',
  ];
  if (Object.keys(results.errors).length) {
    lines.push('## Scenarios that failed in this run', '', ...Object.entries(results.errors).map(([k, e]) => `- ${k}: \`${e.split('\n')[0]}\``), '');
  }
  const section = (key, fn) => {
    if (!s[key]) return;
    const ran = results.merged && s[key].ranAt ? `, ran ${s[key].ranAt}` : '';
    lines.push(`## ${s[key].title}`, '', `Reproduce: \`${s[key].command}\` (${s[key].seconds} s${ran})`, '');
    fn(s[key], out, lines);
  };
  section('fanout', fanoutSection);
  section('workers', (x, _o, l) => {
    l.push(`${x.params.sessions} sessions × ${x.params.subscribersPerSession} subscribers over 2 API nodes, 2 workers running the demo agent's \`/stream N delayMs\` in every session at once; deltas coalesced every ${x.params.deltaFlushMs} ms. Latency is the event's \`createdAt\` (Postgres' clock, transaction start) to client receive, in ms.`, '');
    l.push(table(['turn', 'tokens/s', 'rows/s', 'delivered rows/s', 'delivered/expected', 'p50 ms', 'p95 ms', 'p99 ms', 'CPU % (API A, API B, worker 0, worker 1)', 'RSS MB (API A, API B, worker 0, worker 1)'],
      x.steps.map((st) => [`/stream ${st.tokensPerTurn} ${st.delayMs}`, st.tokensPerSec, st.rowsPerSec, st.deliveredPerSec, st.deliveryRatio, st.latencyMs.p50, st.latencyMs.p95, st.latencyMs.p99,
        ['apiA', 'apiB', 'worker0', 'worker1'].map((n) => st.processes[n]?.cpuPct ?? 'n/a').join(', '),
        ['apiA', 'apiB', 'worker0', 'worker1'].map((n) => st.processes[n]?.rssMb ?? 'n/a').join(', ')])), '');
  });
  section('resume', resumeSection);
  section('idle', idleSection);
  // Scenarios that render their own section (next to the scenario's code).
  for (const scenario of SCENARIOS) if (scenario.report) section(scenario.key, scenario.report);
  lines.push('## Peers (scenario 6)', '', 'Socket.IO runs with `@socket.io/redis-adapter` (2 nodes, an emitter process with the same adapter), resumable-stream with ioredis (2 nodes resuming through Redis, a producer process holding the streams). What they cannot do: Socket.IO keeps no log, so a client that was away (or a node that died) loses what was emitted meanwhile, and it cannot resume from an offset; resumable-stream keeps the stream in the producer\'s memory only, replays everything missed with no cap, and nothing can be resumed once the producer process dies. Sessionwire survives both (the fault suite kills nodes and workers).', '');
  return lines.join('\n');
}
