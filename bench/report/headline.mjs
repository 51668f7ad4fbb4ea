// The headline figures, computed from the scenario results (null where a scenario did not run).

/** The idle runs that ran (not skipped), smallest first. */
function idleRuns(idle) {
  if (!idle) return [];
  return idle.sizes.map((size) => [size, idle.runs[size]]).filter(([, run]) => run && !run.skipped);
}

export function headline(results) {
  const s = results.scenarios;
  const ours = s.fanout?.systems.sessionwire;
  const idle = idleRuns(s.idle);
  const [firstSize, first] = idle[0] ?? [s.idle?.sizes[0] ?? '?'];
  const [lastSize, last] = idle.at(-1) ?? [s.idle?.sizes.at(-1) ?? '?'];
  const fmtSize = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : n);
  return {
    'Sessionwire delivered events/s (highest unsaturated step)': ours?.best?.deliveredPerSec ?? null,
    'Sessionwire append→client p99 ms at that step': ours?.best?.p99 ?? null,
    'Sessionwire highest sustained rate (events/s produced)': ours?.best?.targetRate ?? null,
    'workers producing, fastest turn: delivered rows/s': s.workers?.steps.at(-1)?.deliveredPerSec ?? null,
    'workers producing, fastest turn: createdAt→client p99 ms': s.workers?.steps.at(-1)?.latencyMs.p99 ?? null,
    'highest sustained delivered events/s, ours / Socket.IO': s.fanout?.oursOverPeer.socketio.deliveredPerSec ?? null,
    'highest sustained delivered events/s, ours / resumable-stream': s.fanout?.oursOverPeer.resumable.deliveredPerSec ?? null,
    [`p99 ms at ${s.fanout?.oursOverPeer.socketio.commonRate ?? '?'} events/s, ours / Socket.IO`]: s.fanout?.oursOverPeer.socketio.p99 ?? null,
    [`p99 ms at ${s.fanout?.oursOverPeer.resumable.commonRate ?? '?'} events/s, ours / resumable-stream`]: s.fanout?.oursOverPeer.resumable.p99 ?? null,
    [`bytes per idle stream (${fmtSize(firstSize)} streams)`]: first?.sessionwire.bytesPerStream ?? null,
    [`bytes per idle stream, ours / raw node:http (${fmtSize(firstSize)} streams)`]: first?.oursOverFloor.bytesPerStream ?? null,
    [`idle streams held on one node (largest size run)`]: last?.sessionwire.streams ?? null,
    [`CPU % at idle (${fmtSize(lastSize)} streams)`]: last?.sessionwire.idleCpuPct ?? null,
    [`heartbeats received / expected (${fmtSize(lastSize)} streams)`]: last ? Math.round((last.sessionwire.heartbeatsReceived / last.sessionwire.heartbeatsExpected) * 1000) / 1000 : null,
    [`resume ratio, ${s.resume?.ratioLargestTo200.gap ?? 'largest'} behind / 200 behind (time)`]: s.resume?.ratioLargestTo200.doneMs ?? null,
    'resume ratio (bytes)': s.resume?.ratioLargestTo200.bytes ?? null,
    'resume 200 behind, ours / resumable-stream (time)': s.resume?.oursOverResumable[200]?.doneMs ?? null,
    'reconnect storm: all live after ms': s.storm?.allLiveMs ?? null,
    'reconnect storm: Postgres transactions per stream': s.storm?.transactionsPerStream ?? null,
    'reconnect storm: transactions with identical cursors / with distinct sessions': s.storm?.transactionsSharedOverDistinct ?? null,
    'append ratio, EventStore.append / pgbench (rows/s)': s.append?.ratioOffToPgbench ?? null,
    'append rows/s, partitioned log / one table': s.partitions?.partitionedOverOneTable.append ?? null,
    'resume reads/s, partitioned log / one table': s.partitions?.partitionedOverOneTable.readRecent ?? null,
  };
}
