/**
 * The content hash an image is cached by: everything that makes it — its files (path, content and
 * executable bit), the words of its recipe (versions, package lists) and the hashes of the images
 * it is built from — so that a change to any of them, and only that, builds it again.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface Recipe {
  /** Directory the file paths are relative to. */
  root: string;
  /** Files and directories (walked in name order) that go into the image. */
  files: readonly string[];
  /** Everything else that makes the image: versions, package names, build flags. */
  words: readonly string[];
  /** Content hashes of the images it is built from. */
  bases: readonly string[];
}

export function recipeHash(recipe: Recipe): string {
  const h = createHash('sha256');
  const field = (kind: string, value: string | Buffer): void => {
    h.update(kind).update('\0').update(String(value.length)).update('\0').update(value);
  };
  for (const word of recipe.words) field('word', word);
  for (const base of recipe.bases) field('base', base);
  const walk = (path: string): void => {
    const full = join(recipe.root, path);
    const st = statSync(full);
    if (st.isDirectory()) {
      for (const entry of readdirSync(full).sort()) walk(join(path, entry));
      return;
    }
    field('file', path);
    field('mode', (st.mode & 0o111) !== 0 ? 'x' : '-');
    field('content', readFileSync(full));
  };
  for (const path of recipe.files) walk(path);
  return h.digest('hex').slice(0, 16);
}
