/**
 * `kube-worker fetch <plan> <dir>`: what the packages' init container of a script pod runs. It
 * fetches the plan's packages into `<dir>`, printing the same lines the local runtime logs, and on
 * failure writes why to the container's termination message, which the executor makes the
 * operation's PackageFailed message. It reads no settings: the plan carries the executor's.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseSource, type PackageSource } from '../../core/package-sources.js';
import { fetchPackages } from './fetch-packages.js';
import type { FetchPlan } from './fetch-plan.js';
import { PackageError } from './package-error.js';

const TERMINATION_LOG = '/dev/termination-log';

export async function fetchCommand(planPath: string, dir: string): Promise<number> {
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const stop = new AbortController();
  // Cancel and timeout delete the pod: its SIGTERM ends the download at once.
  process.once('SIGTERM', () => stop.abort());
  try {
    const plan = JSON.parse(await readFile(planPath, 'utf8')) as FetchPlan;
    const sources = plan.sources.map((text) => parseSource(text)).filter((s): s is PackageSource => typeof s !== 'string');
    await fetchPackages({ dir, packages: plan.packages, sources, maxBytes: plan.maxBytes, signal: stop.signal, say });
    return 0;
  } catch (error) {
    const message = error instanceof PackageError ? error.message : `The packages could not be fetched: ${(error as Error).message}`;
    say(message);
    // Outside a container there is no termination log; the line above says it all the same.
    await writeFile(TERMINATION_LOG, message).catch(() => undefined);
    return 1;
  }
}
