export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Median and spread (min–max as a ± percentage of the median) of repeated runs. */
export function summarise(runs, key) {
  const values = runs.map((r) => r[key]);
  const m = median(values);
  const spread = m === 0 ? 0 : ((Math.max(...values) - Math.min(...values)) / 2 / m) * 100;
  return { median: m, spreadPct: spread, values };
}

export const fmt = (n, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';
