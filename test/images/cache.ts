/**
 * Images cached by content hash: an image's tag is the hash of what makes it (recipeHash), so a
 * tag present in the registry is an image that needs no work. Otherwise its bases come first, then
 * it is built (unless Docker has it already) and pushed. The engine does the Docker and registry
 * work; this module decides what to do.
 */
import { recipeHash } from './hash.js';
import { recipeWords, repoRoot, type ImageName, type ImageRecipe } from './recipes.js';

export interface Engine {
  inRegistry(ref: string): Promise<boolean>;
  inDocker(ref: string): boolean;
  /** Builds `recipe` as `ref`; `baseRefs` maps each build argument to the image it names. */
  build(recipe: ImageRecipe, ref: string, baseRefs: Record<string, string>): void;
  push(ref: string): void;
  /** Runs `fn` while no other process builds images. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  goVersion(): string;
  log(message: string): void;
}

export interface CacheOptions {
  /** host:port of the registry the images are pushed to. */
  registry: string;
  /** Directory the recipes' contexts are relative to (the repository). */
  root?: string;
}

export class ImageCache {
  private readonly hashes = new Map<ImageName, string>();

  constructor(
    private readonly recipes: Record<ImageName, ImageRecipe>,
    private readonly engine: Engine,
    private readonly options: CacheOptions,
  ) {}

  hash(name: ImageName): string {
    let hash = this.hashes.get(name);
    if (!hash) {
      const recipe = this.recipes[name];
      const context = recipe.make.kind === 'dockerfile' ? recipe.make.context : '.';
      hash = recipeHash({
        root: `${this.options.root ?? repoRoot}/${context}`,
        files: recipe.files,
        words: recipeWords(recipe, () => this.engine.goVersion()),
        bases: Object.values(recipe.bases).map((base) => this.hash(base!)),
      });
      this.hashes.set(name, hash);
    }
    return hash;
  }

  ref(name: ImageName): string {
    return `${this.options.registry}/kube-worker-test/${name}:${this.hash(name)}`;
  }

  /** The image's pullable reference, once it is in the registry. */
  async ensure(name: ImageName): Promise<string> {
    const ref = this.ref(name);
    if (await this.engine.inRegistry(ref)) return ref;
    const recipe = this.recipes[name];
    const baseRefs: Record<string, string> = {};
    for (const [arg, base] of Object.entries(recipe.bases)) baseRefs[arg] = await this.ensure(base!);
    return this.engine.exclusive(async () => {
      // Another process may have built it while this one waited.
      if (await this.engine.inRegistry(ref)) return ref;
      if (this.engine.inDocker(ref)) {
        this.engine.log(`${name}: built already, pushing ${ref}`);
      } else {
        const t0 = Date.now();
        this.engine.log(`${name}: building ${ref} ...`);
        this.engine.build(recipe, ref, baseRefs);
        this.engine.log(`${name}: built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      }
      this.engine.push(ref);
      return ref;
    });
  }
}
