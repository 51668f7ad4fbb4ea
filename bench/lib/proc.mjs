// CPU and RSS of processes, read from /proc (Linux), sampled while a scenario runs.
import { readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux
const PAGE_KB = 4;

function readStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime 15, rss 24
    return { cpuTicks: Number(fields[11]) + Number(fields[12]), rssKb: Number(fields[21]) * PAGE_KB };
  } catch {
    return undefined; // the process has exited: no sample
  }
}

/**
 * Samples every `intervalMs` the CPU time and RSS of named processes.
 * `stop()` returns per name: cpu (% of one core, averaged), rssMb (peak) and rssAvgMb.
 */
export function sampleProcesses(pids, intervalMs = 250) {
  const start = new Map();
  const peak = new Map();
  const sums = new Map();
  const t0 = performance.now();
  for (const [name, pid] of Object.entries(pids)) {
    const s = readStat(pid);
    if (s) start.set(name, s.cpuTicks);
  }
  const last = new Map();
  const tick = () => {
    for (const [name, pid] of Object.entries(pids)) {
      const s = readStat(pid);
      if (!s) continue;
      last.set(name, s.cpuTicks);
      peak.set(name, Math.max(peak.get(name) ?? 0, s.rssKb));
      const sum = sums.get(name) ?? { total: 0, n: 0 };
      sum.total += s.rssKb;
      sum.n += 1;
      sums.set(name, sum);
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      const seconds = (performance.now() - t0) / 1000;
      const out = {};
      for (const name of Object.keys(pids)) {
        if (!start.has(name)) continue;
        const ticks = (last.get(name) ?? start.get(name)) - start.get(name);
        const sum = sums.get(name);
        out[name] = {
          cpuPct: Math.round((ticks / TICKS / seconds) * 1000) / 10,
          rssMb: Math.round((peak.get(name) ?? 0) / 102.4) / 10,
          rssAvgMb: sum ? Math.round(sum.total / sum.n / 102.4) / 10 : null,
        };
      }
      return out;
    },
  };
}

/** Current RSS in kB of one process, or undefined when it is gone. */
export function rssKb(pid) {
  return readStat(pid)?.rssKb;
}

/** CPU ticks (1/100 s) used so far by one process. */
export function cpuTicks(pid) {
  return readStat(pid)?.cpuTicks;
}
