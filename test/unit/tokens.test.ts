import { describe, expect, it } from 'vitest';
import { digestAll, matchesAny } from '../../core/tokens.js';

const FIRST = 'first-token-0123456789';
const SECOND = 'second-token-abcdefghij';

describe('matchesAny', () => {
  it.each([
    ['the only accepted token', FIRST, [FIRST], true],
    ['the first of several', FIRST, [FIRST, SECOND], true],
    ['the second of several', SECOND, [FIRST, SECOND], true],
    ['a different token of the same length', 'first-token-0123456788', [FIRST], false],
    ['a prefix of an accepted token', 'first-token', [FIRST, SECOND], false],
    ['a longer token that starts with an accepted one', `${FIRST}x`, [FIRST], false],
    ['an empty token', '', [FIRST], false],
    ['a token that differs only in case', FIRST.toUpperCase(), [FIRST], false],
    ['any token when none is accepted', FIRST, [], false],
  ])('answers %s with %s', (_case, presented, accepted, expected) => {
    expect(matchesAny(presented, digestAll(accepted))).toBe(expected);
  });
});

describe('digestAll', () => {
  it('gives one 32-byte SHA-256 digest per value, in order', () => {
    const digests = digestAll([FIRST, SECOND]);
    expect(digests).toHaveLength(2);
    expect(digests.map((d) => d.length)).toEqual([32, 32]);
    expect(digests[0]!.equals(digestAll([FIRST])[0]!)).toBe(true);
    expect(digests[0]!.equals(digests[1]!)).toBe(false);
  });

  it('gives an empty list for no values', () => {
    expect(digestAll([])).toEqual([]);
  });
});
