/** A Go module's go line against the toolchain that builds it (test/support/go-module.ts). */
import { describe, expect, it } from 'vitest';
import { lowerGoLine } from '../support/go-module.js';

const goMod = (line: string) => `module example.com/m\n\n${line}\n\nrequire example.com/x v1.0.0\n`;

describe('lowerGoLine', () => {
  it.each([
    ['a later patch release of the same version is lowered to the toolchain', 'go 1.27.4', 'go1.27.3', 'go 1.27.3'],
    ['the same release stays', 'go 1.27.3', 'go1.27.3', 'go 1.27.3'],
    ['an earlier patch release stays', 'go 1.27.1', 'go1.27.3', 'go 1.27.1'],
    ['a later version stays, for the go command to refuse', 'go 1.28.0', 'go1.27.3', 'go 1.28.0'],
    ['an earlier version stays', 'go 1.26.8', 'go1.27.3', 'go 1.26.8'],
    ['a go line without a patch release stays', 'go 1.27', 'go1.27.3', 'go 1.27'],
  ])('%s', (_what, line, toolchain, want) => {
    expect(lowerGoLine(goMod(line), toolchain)).toBe(goMod(want));
  });

  it('refuses a toolchain that is not a Go release', () => {
    expect(() => lowerGoLine(goMod('go 1.27.4'), 'local')).toThrow(/not a Go release/);
  });
});
