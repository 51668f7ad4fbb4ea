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
    'highest sustained delivered events/s, ours / Socket.IO': s.fanout?.oursOverPeer?.socketio.deliveredPerSec ?? null,
    'highest sustained delivered events/s, ours / resumable-stream': s.fanout?.oursOverPeer?.resumable.deliveredPerSec ?? null,
    [`p99 ms at ${s.fanout?.oursOverPeer?.socketio.commonRate ?? '?'} events/s, ours / Socket.IO`]: s.fanout?.oursOverPeer?.socketio.p99 ?? null,
    [`p99 ms at ${s.fanout?.oursOverPeer?.resumable.commonRate ?? '?'} events/s, ours / resumable-stream`]: s.fanout?.oursOverPeer?.resumable.p99 ?? null,
    [`bytes per idle stream (${fmtSize(firstSize)} streams)`]: first?.sessionwire.bytesPerStream ?? null,
    [`bytes per idle stream, ours / raw node:http (${fmtSize(firstSize)} streams)`]: first?.oursOverFloor.bytesPerStream ?? null,
    [`bytes per idle stream, second half of ${fmtSize(firstSize)} streams, ours / raw node:http`]: first?.oursOverFloor.secondHalfBytesPerStream ?? null,
    [`idle streams held on one node (largest size run)`]: last?.sessionwire.streams ?? null,
    [`CPU % at idle (${fmtSize(lastSize)} streams)`]: last?.sessionwire.idleCpuPct ?? null,
    [`idle streams short of a heartbeat due (${fmtSize(lastSize)} streams)`]: last?.sessionwire.streamsShortOfHeartbeats ?? null,
    [`resume ratio, ${s.resume?.ratioLargestTo200.gap ?? 'largest'} behind / 200 behind (time)`]: s.resume?.ratioLargestTo200.doneMs ?? null,
    'resume ratio (bytes)': s.resume?.ratioLargestTo200.bytes ?? null,
    'resume 200 behind, ours / resumable-stream (time)': s.resume?.oursOverResumable[200]?.doneMs ?? null,
    'reconnect storm: all live after ms': s.storm?.allLiveMs ?? null,
    'reconnect storm: Postgres transactions per stream': s.storm?.transactionsPerStream ?? null,
    'reconnect storm: transactions with identical cursors / with distinct sessions': s.storm?.transactionsSharedOverDistinct ?? null,
    'append ratio, group-committed rows/s / pgbench one-row tps': s.append?.ratioGroupedToPgbench ?? null,
    'reconnect storm, distinct sessions: Postgres transactions per stream': s.storm?.distinctSessions?.transactionsPerStream ?? null,
    'reconnect storm, distinct / identical cursors: all-live time': s.storm?.distinctOverShared?.allLiveMs ?? null,
    'capacity: largest N with stretch ≤ 1.25 (group commit)': s.capacity?.groupCommit.largestN ?? null,
    'capacity: largest N, group commit / APPEND_BATCH_MAX=1': s.capacity?.largestNRatio ?? null,
    'accept at concurrency 64: messages/s / pgbench tps': s.accept?.steps.find((st) => st.concurrency === 64)?.ratioToPgbench ?? null,
    'accept at concurrency 64: p99 ms': s.accept?.steps.find((st) => st.concurrency === 64)?.latencyMs.p99 ?? null,
    'accept at concurrency 64, named / unnamed statements: messages/s': s.accept?.namedToUnnamed?.find((r) => r.concurrency === 64)?.acceptedRatio ?? null,
    'append, named / unnamed statements: rows/s': s.append?.ratioNamedToUnnamed ?? null,
    'highest sustained rate, ours / Socket.IO': s.fanout?.oursOverPeer?.socketio.sustainedRate ?? null,
    'highest sustained rate, ours / resumable-stream': s.fanout?.oursOverPeer?.resumable.sustainedRate ?? null,
    'append rows/s, partitioned log / one table': s.partitions?.partitionedOverOneTable.append ?? null,
    'resume reads/s, partitioned log / one table': s.partitions?.partitionedOverOneTable.readRecent ?? null,
    'AI SDK resume of a half-finished 2,000-token turn, ours / resumable-stream: first replayed chunk': s.aisdk?.oursOverResumable.firstChunkMs ?? null,
    'AI SDK resume of a half-finished 2,000-token turn, ours / resumable-stream: bytes': s.aisdk?.oursOverResumable.bytes ?? null,
  };
}
