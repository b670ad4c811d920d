/** Prints a fault test's figures, so a run says what happened even when it passes. */
import type { Figures } from './ledger.js';
import type { Load } from './load.js';

/** `seconds`: how long each step took, to see where a run's time goes (never asserted). */
export function report(fault: string, load: Load, figures: Figures, seconds: Record<string, number> = {}): void {
  const tally = Object.fromEntries([...load.tally].sort());
  const firstHang = load.hangs[0];
  const firstUnexpected = load.unexpected[0];
  console.info(
    `[faults] ${fault}: submitted ${figures.submitted}, ended ${figures.ended}, repeated ${figures.repeated}, lost ${figures.lost}` +
      `, hangs ${load.hangs.length}, unexpected answers ${load.unexpected.length}, longest client wait ${(load.longestWaitMs / 1000).toFixed(1)}s\n` +
      `  seconds ${JSON.stringify(seconds)}\n` +
      `  outcomes ${JSON.stringify(figures.outcomes)}\n  requests ${JSON.stringify(tally)}` +
      (figures.lostExamples.length ? `\n  lost e.g. ${figures.lostExamples.join('; ')}` : '') +
      (firstHang ? `\n  first hang: ${firstHang.phase} ${firstHang.what}` : '') +
      (firstUnexpected
        ? `\n  first unexpected: ${firstUnexpected.phase} ${firstUnexpected.what} ${JSON.stringify(firstUnexpected.outcome).slice(0, 400)}`
        : ''),
  );
}

/** Seconds between the steps of a test, for its report. */
export function stopwatch(): { lap(step: string): void; laps: Record<string, number> } {
  let last = Date.now();
  const laps: Record<string, number> = {};
  return {
    laps,
    lap(step) {
      const now = Date.now();
      laps[step] = Math.round((now - last) / 100) / 10;
      last = now;
    },
  };
}
