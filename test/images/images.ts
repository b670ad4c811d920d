/**
 * The test images, from the registries alone: `imageRef(name)` gives the pullable reference of one
 * (127.0.0.1:16500/kube-worker-test/NAME:HASH), building and pushing it and its bases first when
 * the registry does not hold that hash yet. `npm run -s cluster:image -- NAME` is the command line.
 */
import { ImageCache } from './cache.js';
import { DockerEngine } from './engine.js';
import { imageNames, recipes, type ImageName } from './recipes.js';

export { imageNames, type ImageName } from './recipes.js';

/** The local registry host-setup.sh starts. */
export const registry = process.env.KW_IMAGE_REGISTRY ?? '127.0.0.1:16500';

let cache: ImageCache | undefined;

export function isImageName(name: string): name is ImageName {
  return (imageNames as readonly string[]).includes(name);
}

export async function imageRef(name: ImageName): Promise<string> {
  cache ??= new ImageCache(recipes, new DockerEngine(), { registry });
  return cache.ensure(name);
}
