/** Latency summary in ms. Values may be `Infinity` for "not happened by the end" (censored). */
export interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? (sorted[sorted.length - 1] ?? Number.NaN) : Number.NaN,
  };
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** A duration for a table cell: "12.3" (ms), "2.41 s" from a second up, "—" for none, "∞" for never. */
export function ms(value: number, digits = 1): string {
  if (Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return '∞';
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  return `${value.toFixed(digits)}`;
}

/** A duration in a sentence: "12.3 ms", "2.41 s". */
export function duration(value: number, digits = 1): string {
  const text = ms(value, digits);
  return /^[\d.]+$/.test(text) ? `${text} ms` : text;
}

/** A ratio: "1.23 ×", or "—" when either side is missing or infinite. */
export function times(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)} ×` : '—';
}

export function ratio(a: number, b: number): number {
  return b > 0 && Number.isFinite(a) && Number.isFinite(b) ? a / b : Number.NaN;
}
