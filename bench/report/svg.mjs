// Hand-written SVG charts (no network, no dependencies).

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * A line chart: series [{label, points:[[x, y]]}] with a log-scale x axis when `logX`.
 * Returns the SVG document as a string.
 */
export function lineChart({ title, xLabel, yLabel, series, logX = false, yCap = Infinity, width = 640, height = 360 }) {
  const m = { l: 64, r: 180, t: 36, b: 48 };
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  const all = series.flatMap((s) => s.points).filter(([, y]) => y !== null && y !== undefined);
  const fx = (x) => (logX ? Math.log10(x) : x);
  const xs = all.map(([x]) => fx(x));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  // values above `yCap` are drawn at the cap as open circles labelled with their value
  const yMax = Math.min(Math.max(...all.map(([, y]) => y)) * 1.1, yCap) || 1;
  const px = (x) => m.l + (x1 === x0 ? w / 2 : ((fx(x) - x0) / (x1 - x0)) * w);
  const py = (y) => m.t + h - (Math.min(y, yMax) / yMax) * h;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${m.l}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${m.l}" y1="${m.t + h}" x2="${m.l + w}" y2="${m.t + h}" stroke="#333"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + h}" stroke="#333"/>`,
    `<text x="${m.l + w / 2}" y="${height - 10}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="14" y="${m.t + h / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.t + h / 2})">${esc(yLabel)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = (yMax / 4) * i;
    parts.push(`<line x1="${m.l}" y1="${py(y)}" x2="${m.l + w}" y2="${py(y)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${py(y) + 4}" text-anchor="end">${+y.toPrecision(3)}</text>`);
  }
  const ticks = [...new Set(all.map(([x]) => x))].sort((a, b) => a - b);
  for (const x of ticks) parts.push(`<text x="${px(x)}" y="${m.t + h + 16}" text-anchor="middle">${x.toLocaleString('en-US')}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.filter(([, y]) => y !== null && y !== undefined);
    if (pts.length) {
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
      for (const [x, y] of pts) {
        if (y <= yMax) {
          parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"/>`);
          continue;
        }
        parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="4" fill="white" stroke="${color}" stroke-width="2"/>`);
        parts.push(`<text x="${px(x).toFixed(1)}" y="${(py(y) - 8).toFixed(1)}" text-anchor="middle" fill="${color}">${+y.toPrecision(3)}</text>`);
      }
    }
    parts.push(`<rect x="${m.l + w + 16}" y="${m.t + i * 20}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${m.l + w + 34}" y="${m.t + i * 20 + 10}">${esc(s.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
