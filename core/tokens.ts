/** Constant-time comparison of a presented secret against the accepted ones. */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * True when `presented` equals one of `accepted`. Both sides are hashed first so that the
 * comparison takes the same time whatever the lengths, and every accepted value is compared.
 */
export function matchesAny(presented: string, accepted: readonly Buffer[]): boolean {
  const candidate = digest(presented);
  let match = false;
  for (const token of accepted) match = timingSafeEqual(candidate, token) || match;
  return match;
}

export function digestAll(values: readonly string[]): Buffer[] {
  return values.map(digest);
}
