import { describe, expect, it } from 'vitest';
import { parseQuantity } from '../../core/quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['250m', 0.25],
    ['1', 1],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['+2', 2],
    ['0', 0],
    ['100n', 100e-9],
    ['10u', 10e-6],
    ['2k', 2000],
    ['3M', 3e6],
    ['1G', 1e9],
    ['1T', 1e12],
    ['1P', 1e15],
    ['1E', 1e18],
    ['1Ki', 1024],
    ['256Mi', 256 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['1Ti', 2 ** 40],
    ['1Pi', 2 ** 50],
    ['1Ei', 2 ** 60],
    ['1e3', 1000],
    ['1E3', 1000],
    ['2e+2', 200],
    ['5e-1', 0.5],
  ])('reads %s as %d base units', (text, expected) => {
    expect(parseQuantity(text)).toBeCloseTo(expected, 12);
  });

  it.each([['lots'], ['1.2.3'], ['-1'], [''], ['Mi'], ['1K'], ['1mi'], ['1 Mi'], [' 1'], ['1e'], ['1e3Mi'], ['1MiB'], ['.'], ['0x10']])(
    'refuses %j',
    (text) => {
      expect(parseQuantity(text)).toBeUndefined();
    },
  );
});
