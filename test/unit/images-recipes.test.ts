/**
 * The test images' recipes (test/images/recipes.ts) against their Dockerfiles: every file a
 * Dockerfile copies is part of the hash (or a stale image would be reused), and every base image
 * reaches the Dockerfile as the build argument its FROM names.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../chart/support/dockerfile.js';
import { imageNames, recipes, repoRoot, versions } from '../images/recipes.js';

const dockerfileRecipes = imageNames.map((name) => recipes[name]).filter((r) => r.make.kind === 'dockerfile');

describe('test image recipes', () => {
  it.each(dockerfileRecipes.map((r) => [r.name, r]))('%s: its Dockerfile copies only hashed or fetched files', (_name, recipe) => {
    if (recipe.make.kind !== 'dockerfile') throw new Error('not a Dockerfile recipe');
    const context = join(repoRoot, recipe.make.context);
    const source = readFileSync(join(context, 'Dockerfile'), 'utf8');
    const fetched = recipe.make.fetch.flatMap((f) => (f.kind === 'go-module' ? Object.keys(f.binaries) : [f.into]));
    for (const stage of parseDockerfile(source)) {
      for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')) {
        if (copy.text.startsWith('--from=')) continue;
        for (const path of copy.text.split(' ').slice(0, -1)) {
          const covered = recipe.files.some((f) => f === '.' || path === f || path.startsWith(`${f}/`)) || fetched.includes(path);
          expect(covered, `${recipe.name}: ${path}`).toBe(true);
          if (!fetched.includes(path)) expect(existsSync(join(context, path)), `${recipe.name}: ${path}`).toBe(true);
        }
      }
    }
  });

  it.each(dockerfileRecipes.map((r) => [r.name, r]))('%s: each base is a build argument its FROM uses', (_name, recipe) => {
    if (recipe.make.kind !== 'dockerfile') throw new Error('not a Dockerfile recipe');
    const source = readFileSync(join(repoRoot, recipe.make.context, 'Dockerfile'), 'utf8');
    const froms = parseDockerfile(source).map((s) => s.from);
    for (const arg of Object.keys(recipe.bases)) {
      expect(source).toMatch(new RegExp(`^ARG ${arg}\\b`, 'm'));
      expect(froms).toContain(`\${${arg}}`);
    }
    if (Object.keys(recipe.bases).length === 0) expect(froms.every((f) => f === 'scratch')).toBe(true);
  });

  it('pins Node.js 24, as the product image has it, and every downloaded package by its integrity', () => {
    expect(versions.node.version.split('.')[0]).toBe('24');
    for (const f of dockerfileRecipes.flatMap((r) => (r.make.kind === 'dockerfile' ? r.make.fetch : []))) {
      if (f.kind === 'npm') expect(f.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
      if (f.kind === 'go') expect(f.pkg === '.' || /@v\d+\.\d+\.\d+$/.test(f.pkg), f.pkg).toBe(true);
      if (f.kind === 'go-module')
        expect([f.module, f.toolchain]).toEqual([expect.stringMatching(/@v\d+\.\d+\.\d+$/), expect.stringMatching(/^go\d+\.\d+\.\d+$/)]);
    }
  });

  it.each(dockerfileRecipes.map((r) => [r.name, r]))('%s: every file put over a Go module is in its context, and kept', (_name, recipe) => {
    if (recipe.make.kind !== 'dockerfile') throw new Error('not a Dockerfile recipe');
    for (const f of recipe.make.fetch) {
      if (f.kind !== 'go-module') continue;
      for (const [path, file] of Object.entries(f.overlay)) {
        expect(existsSync(join(repoRoot, recipe.make.context, file)), file).toBe(true);
        const dir = Object.keys(f.keep).find((d) => path.startsWith(`${d}/`));
        if (dir) expect(f.keep[dir], path).toContain(path.slice(dir.length + 1));
      }
    }
  });
});
