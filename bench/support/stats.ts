/** The few statistics the benchmarks print: percentiles of latencies, medians of rounds, ratios. */

/** Nearest-rank percentile (p in 0..100) of values in any order. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface Latencies {
  p50: number;
  p99: number;
}

export const latencies = (samples: readonly number[]): Latencies => ({ p50: percentile(samples, 50), p99: percentile(samples, 99) });

export const fixed = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** "0.83×": how a figure compares with its baseline from the same run. */
export const ratio = (value: number, baseline: number): string => `${fixed(value / baseline)}×`;
