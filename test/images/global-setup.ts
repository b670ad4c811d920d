/**
 * The images project runs the test images for real: each one is built (the first time) and pushed
 * to the local registry before any test starts, and the tests get their pullable references.
 *
 * - CI=true: no Docker engine or registry fails the run (.ci/run starts them: test/images/host-setup.sh).
 * - Elsewhere: without them every test of this project is skipped with the reason; any other
 *   failure (a build that breaks) still fails the run.
 */
import type { TestProject } from 'vitest/node';
import { SetupError } from './engine.js';
import { prepareHost } from '../support/host-setup.js';
import { imageNames, imageRef, type ImageName } from './images.js';

export async function setup(project: TestProject): Promise<void> {
  const refs = {} as Record<ImageName, string>;
  try {
    prepareHost();
    const t0 = Date.now();
    for (const name of imageNames) refs[name] = await imageRef(name);
    process.stderr.write(`[images] ${imageNames.length} images ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    project.provide('images', refs);
    project.provide('imagesUnavailable', '');
  } catch (err) {
    if (process.env.CI === 'true' || !(err instanceof SetupError)) throw err;
    process.stderr.write(`[images] SKIPPING every images test — ${err.message}\n`);
    project.provide('images', refs);
    project.provide('imagesUnavailable', err.message);
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Each test image's pullable reference. */
    images: Record<ImageName, string>;
    /** Why the images cannot be had ('' when they are there). */
    imagesUnavailable: string;
  }
}
