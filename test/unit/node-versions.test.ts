import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { versions } from '../../test/images/recipes.js';

const root = path.resolve(import.meta.dirname, '../..');
const engines = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
const ciVersions = /^NODE_VERSIONS=\(([^)]*)\)$/m
  .exec(readFileSync(path.join(root, '.ci/run'), 'utf8'))![1]!
  .trim()
  .split(/\s+/);

const parts = (version: string): number[] => version.split('.').map(Number);
/** `engines` as caret ranges, e.g. ^24.0.0 (several joined by ||). */
const ranges = engines.split('||').map((range) => parts(/^\s*\^(\d+\.\d+\.\d+)\s*$/.exec(range)![1]!));
const allowed = (version: string): boolean => {
  const [major, minor, patch] = parts(version);
  return ranges.some(([m, n, p]) => major === m && (minor! > n! || (minor === n && patch! >= p!)));
};

describe('the supported Node.js versions', () => {
  it("are run by CI, each major that engines allows, the image's own first", () => {
    expect(ciVersions[0]).toBe(versions.node.version);
    expect(ciVersions.every(allowed)).toBe(true);
    expect(ciVersions.map((v) => parts(v)[0]).sort()).toEqual(ranges.map(([major]) => major).sort());
  });
});
