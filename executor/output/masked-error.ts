/** An error as it may be logged: its message and stack with the operation's sensitive values masked. */
import type { ScriptOutput } from './script-output.js';

export function maskedError(error: unknown, output: Pick<ScriptOutput, 'mask'>): Error {
  const original = error instanceof Error ? error : new Error(String(error));
  const masked = new Error(output.mask(original.message));
  masked.name = original.name;
  masked.stack = original.stack === undefined ? undefined : output.mask(original.stack);
  return masked;
}
