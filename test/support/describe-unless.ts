import { describe } from 'vitest';

/**
 * `describe`; or, when `missing` says what the suite needs and this machine lacks, a skipped suite
 * whose name carries that reason, so a report says why it did not run and never counts it as passed.
 */
export function describeUnless(missing: string | undefined, name: string, fn: () => void): void {
  if (missing) describe.skip(`${name} [skipped: ${missing}]`, fn);
  else describe(name, fn);
}
