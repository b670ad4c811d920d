/** Running the test images with Docker from the tests of the images project. */
import { spawnSync } from 'node:child_process';
import { inject } from 'vitest';
import { describeUnless } from '../../support/describe-unless.js';
import { dockerBin } from '../engine.js';
import type { ImageName } from '../images.js';

/** `describe`, or a skipped suite whose name says why there are no images. */
export function describeImages(name: string, fn: () => void): void {
  describeUnless(inject('imagesUnavailable'), name, fn);
}

export function image(name: ImageName): string {
  return inject('images')[name];
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** One docker command; its output, whatever its exit status. */
export function docker(...args: string[]): Run {
  const r = spawnSync(dockerBin, args, { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
}

/** One docker command that must succeed; its standard output, trimmed. */
export function dockerOk(...args: string[]): string {
  const r = docker(...args);
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}
