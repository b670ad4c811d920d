/**
 * Kubernetes cases run twice, in a cold pod and in a warm one: an operation a warm pod can take (no
 * image, packages, resources or service account of its own) must behave the same in both. Each
 * case also says which kind of pod ran it, so that a warm case whose operation went cold (no warm
 * pod was ready yet) fails instead of passing for the wrong reason.
 *
 *   describeInPodModes('my feature', (mode) => {
 *     const kw = useKubeWorker('my-feature', podModeEnv(mode));
 *     const jobs = useJobsMade(kw.ns);
 *     beforeAll(() => kw.addExecutor());
 *     beforeEach(() => warmPoolReady(mode, `${kw.stack.url}/metrics`));
 *     it('...', async () => {
 *       const ticket = await kw.stack.submit(bash('echo hi'));
 *       ...
 *       await expectRanIn(mode, jobs, ticket);
 *     });
 *   });
 */
import { expect } from 'vitest';
import { LABEL_WARM } from '../../../executor/kubernetes/warm-pod-spec.js';
import { scrape } from '../../integration/support/metrics.js';
import { waitUntil } from '../../support/wait-until.js';
import { describeCluster } from './cluster.js';
import type { JobsMade } from './jobs-made.js';

export type PodMode = 'cold' | 'warm';

/**
 * Warm pods per pool in warm mode: as many as a case runs operations at once, and few enough that
 * the pools of the files running beside each other leave the node room for their cold pods.
 */
export const WARM_POOL = 2;

/** An executor's settings for `mode`. */
export function podModeEnv(mode: PodMode): Record<string, string> {
  return { KUBE_WORKER_WARM_PODS: mode === 'warm' ? String(WARM_POOL) : '0' };
}

/** `body` as two suites, `<name> (cold pods)` and `<name> (warm pods)`. */
export function describeInPodModes(name: string, body: (mode: PodMode) => void): void {
  for (const mode of ['cold', 'warm'] as const) describeCluster(`${name} (${mode} pods)`, () => body(mode));
}

/**
 * In warm mode, resolves once the executor whose metrics are at `metricsUrl` has its whole pool
 * ready as it sees it itself (kube_worker_warm_pods): an operation submitted then is bound to a warm
 * pod. The pods' own state would not do: the executor's watch may not have seen them run yet.
 */
export async function warmPoolReady(mode: PodMode, metricsUrl: string, timeoutMs = 120_000): Promise<void> {
  if (mode === 'cold') return;
  const ready = async (): Promise<boolean> => (await scrape(metricsUrl)).value('kube_worker_warm_pods', { pool: 'default', state: 'ready' }) >= WARM_POOL;
  await waitUntil(`${WARM_POOL} warm pods ready`, ready, timeoutMs, 250);
}

/** What kind of pod a Job made for a ticket is: a warm Job is labelled bound by the patch that gives it the ticket. */
const kindOf = (labels: Record<string, string> | undefined): string => {
  const warm = labels?.[LABEL_WARM];
  if (warm === undefined) return 'cold';
  return warm === 'bound' ? 'warm' : `warm (${LABEL_WARM}=${warm})`;
};

/** Asserts that one Job ran `ticket`'s operation, and that its pod was of `mode`. */
export async function expectRanIn(mode: PodMode, jobs: JobsMade, ticket: string): Promise<void> {
  // The watch may hear of the Job a moment after the operation's status says it ran.
  await expect
    .poll(() => jobs.of(ticket).map((job) => kindOf(job.metadata?.labels)), { timeout: 15_000, message: `the kind of pod of each Job made for ${ticket}` })
    .toEqual([mode]);
}
