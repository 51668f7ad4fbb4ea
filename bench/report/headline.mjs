// The headline figures, computed from the scenario results (null where a scenario did not run).

export function headline(results) {
  const s = results.scenarios;
  const ours = s.fanout?.systems.sessionwire;
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
    'bytes per idle stream': s.idle?.bytesPerStream ?? null,
    'CPU % at idle (10,000 streams)': s.idle?.idleCpuPct ?? null,
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
