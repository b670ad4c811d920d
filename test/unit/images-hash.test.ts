/**
 * The content hash test images are cached by (test/images/hash.ts): it changes with anything that
 * makes the image and with nothing else.
 */
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recipeHash, type Recipe } from '../images/hash.js';

let root: string;
const recipe = (over: Partial<Recipe> = {}): Recipe => ({ root, files: ['.'], words: ['redis', 'bookworm'], bases: ['0123456789abcdef'], ...over });

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kw-image-hash-'));
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'Dockerfile'), 'FROM scratch\n');
  writeFileSync(join(root, 'sub', 'entrypoint.sh'), '#!/bin/sh\nexec "$@"\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('recipeHash', () => {
  it('is 16 hex digits, the same for the same inputs', () => {
    const h = recipeHash(recipe());
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(recipeHash(recipe())).toBe(h);
  });

  it('does not depend on where the files are or when they were written', () => {
    const h = recipeHash(recipe());
    const moved = `${root}-moved`;
    renameSync(root, moved);
    utimesSync(join(moved, 'Dockerfile'), new Date(0), new Date(0));
    try {
      expect(recipeHash({ ...recipe(), root: moved })).toBe(h);
    } finally {
      renameSync(moved, root);
    }
  });

  it('changes when a file changes, is added, is renamed or becomes executable', () => {
    const seen = new Set([recipeHash(recipe())]);
    const step = (change: () => void): void => {
      change();
      const h = recipeHash(recipe());
      expect(seen.has(h)).toBe(false);
      seen.add(h);
    };
    step(() => writeFileSync(join(root, 'Dockerfile'), 'FROM scratch\nUSER 1\n'));
    step(() => writeFileSync(join(root, 'sub', 'new.txt'), ''));
    step(() => renameSync(join(root, 'sub', 'new.txt'), join(root, 'sub', 'other.txt')));
    step(() => chmodSync(join(root, 'sub', 'entrypoint.sh'), 0o755));
  });

  it('changes with the recipe words and with the hash of a base image', () => {
    const h = recipeHash(recipe());
    expect(recipeHash(recipe({ words: ['redis', 'trixie'] }))).not.toBe(h);
    expect(recipeHash(recipe({ bases: ['fedcba9876543210'] }))).not.toBe(h);
  });

  it('keeps fields apart: a word cannot pass for a file or two words for one', () => {
    expect(recipeHash(recipe({ words: ['ab', 'c'] }))).not.toBe(recipeHash(recipe({ words: ['a', 'bc'] })));
    expect(recipeHash(recipe({ words: ['x'], bases: [] }))).not.toBe(recipeHash(recipe({ words: [], bases: ['x'] })));
  });

  it('hashes only the files listed', () => {
    const h = recipeHash(recipe({ files: ['Dockerfile'] }));
    writeFileSync(join(root, 'sub', 'entrypoint.sh'), 'changed');
    expect(recipeHash(recipe({ files: ['Dockerfile'] }))).toBe(h);
  });
});
