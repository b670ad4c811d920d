/**
 * The test images' cache (test/images/cache.ts) with an engine that records what it is asked:
 * a tag the registry holds is never built again, bases come before the images built from them,
 * and a change to a base builds what depends on it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImageCache, type Engine } from '../images/cache.js';
import { imageNames, recipes, type ImageName, type ImageRecipe } from '../images/recipes.js';

class FakeEngine implements Engine {
  registry = new Set<string>();
  docker = new Set<string>();
  calls: string[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  async inRegistry(ref: string): Promise<boolean> {
    return this.registry.has(ref);
  }
  inDocker(ref: string): boolean {
    return this.docker.has(ref);
  }
  build(recipe: ImageRecipe, ref: string, baseRefs: Record<string, string>): void {
    this.calls.push(`build ${recipe.name} ${JSON.stringify(baseRefs)}`);
    for (const base of Object.values(baseRefs)) expect(this.registry.has(base), `${base} pushed before ${ref} is built`).toBe(true);
    this.docker.add(ref);
  }
  push(ref: string): void {
    this.calls.push(`push ${ref}`);
    this.registry.add(ref);
  }
  /** One holder at a time, as the build lock does. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
  goVersion(): string {
    return 'go1.26.8';
  }
  log(): void {}
}

/** The real recipes, with contexts in a scratch directory so that files can change. */
let root: string;
const fakeRecipes = (): Record<ImageName, ImageRecipe> => {
  const out = {} as Record<ImageName, ImageRecipe>;
  for (const name of imageNames) out[name] = { ...recipes[name], make: { kind: 'dockerfile', context: name, fetch: [] }, files: ['Dockerfile'] };
  return out;
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kw-image-cache-'));
  for (const name of imageNames) {
    mkdirSync(join(root, name));
    writeFileSync(join(root, name, 'Dockerfile'), `# ${name}\n`);
  }
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const cacheWith = (engine: FakeEngine): ImageCache => new ImageCache(fakeRecipes(), engine, { registry: '127.0.0.1:16500', root });

describe('ImageCache', () => {
  it('names images in the local registry by name and content hash', () => {
    expect(cacheWith(new FakeEngine()).ref('redis')).toMatch(/^127\.0\.0\.1:16500\/kube-worker-test\/redis:[0-9a-f]{16}$/);
  });

  it('builds and pushes the bases first, passing their references as build arguments', async () => {
    const engine = new FakeEngine();
    const cache = cacheWith(engine);
    const ref = await cache.ensure('kube-worker');
    expect(ref).toBe(cache.ref('kube-worker'));
    expect(engine.calls).toEqual([
      'build debian {}',
      `push ${cache.ref('debian')}`,
      `build node {"BASE":"${cache.ref('debian')}"}`,
      `push ${cache.ref('node')}`,
      `build kube-worker {"NODE_IMAGE":"${cache.ref('node')}"}`,
      `push ${ref}`,
    ]);
  });

  it('does nothing when the registry holds the hash already, even in a new process', async () => {
    const engine = new FakeEngine();
    for (const name of imageNames) await cacheWith(engine).ensure(name);
    engine.calls = [];
    for (const name of imageNames) await cacheWith(engine).ensure(name);
    expect(engine.calls).toEqual([]);
  });

  it('pushes without building an image Docker holds but the registry lost', async () => {
    const engine = new FakeEngine();
    const cache = cacheWith(engine);
    await cache.ensure('pause');
    engine.registry.clear();
    engine.calls = [];
    await cacheWith(engine).ensure('pause');
    expect(engine.calls).toEqual([`push ${cache.ref('pause')}`]);
  });

  it('builds again what a changed base makes, and nothing else', async () => {
    const engine = new FakeEngine();
    for (const name of imageNames) await cacheWith(engine).ensure(name);
    engine.calls = [];
    writeFileSync(join(root, 'node', 'Dockerfile'), '# node, changed\n');
    for (const name of imageNames) await cacheWith(engine).ensure(name);
    expect(engine.calls.filter((c) => c.startsWith('build')).map((c) => c.split(' ')[1])).toEqual(['node', 'kube-worker']);
  });

  it('builds each image once when asked for several at the same time', async () => {
    const engine = new FakeEngine();
    const cache = cacheWith(engine);
    await Promise.all(imageNames.map((name) => cache.ensure(name)));
    const built = engine.calls.filter((c) => c.startsWith('build')).map((c) => c.split(' ')[1]);
    expect(built.sort()).toEqual([...imageNames].sort());
  });

  it('does not build twice what another process built while this one waited', async () => {
    const engine = new FakeEngine();
    const cache = cacheWith(engine);
    const ref = cache.ref('pause');
    const inner = engine.exclusive.bind(engine);
    engine.exclusive = async (fn) => {
      engine.registry.add(ref);
      return inner(fn);
    };
    await cache.ensure('pause');
    expect(engine.calls).toEqual([]);
  });
});
