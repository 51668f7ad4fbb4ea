// Small statistics helpers shared by the scenarios.

/** Percentile (0..100) of an unsorted array of numbers, nearest-rank; undefined when empty. */
export function percentile(values, p) {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** p50/p95/p99/max of latencies in ms, rounded to 0.1 ms. */
export function latencySummary(values) {
  if (values.length === 0) return { p50: null, p95: null, p99: null, max: null, samples: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return {
    p50: round(at(50), 1),
    p95: round(at(95), 1),
    p99: round(at(99), 1),
    max: round(sorted[sorted.length - 1], 1),
    samples: sorted.length,
  };
}

export function round(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** a / b rounded, or null when either side is missing. */
export function ratio(a, b, digits = 2) {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return round(a / b, digits);
}

/** One clock for every process on this machine: ms since the epoch with sub-ms precision. */
export function nowMs() {
  return performance.timeOrigin + performance.now();
}
