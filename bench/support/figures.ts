/** What one measurement of one intake target yields. */
import { latencies as summarize } from './stats.js';

export interface Figures {
  /** Accepted submissions per second. */
  rate: number;
  /** Accepted submissions in the measurement. */
  count: number;
  /** Latency of a submission, ms. */
  p50: number;
  p99: number;
  /** Failed or non-2xx submissions; any makes the round invalid. */
  errors: number;
  /** CPU time the target's process spent per accepted submission, µs: it moves far less than rates when other work shares the machine. */
  cpuMicros?: number;
}

export function toFigures(latencies: readonly number[], seconds: number, errors: number): Figures {
  return { rate: latencies.length / seconds, count: latencies.length, ...summarize(latencies), errors };
}
