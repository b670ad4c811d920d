/**
 * The timeline of an operation run as a Kubernetes Job on a real cluster: the moments the shared
 * watch shows (the pod bound, the script's image on the node, the script ended) beside the
 * executor's own, and the phases they feed in /metrics.
 */
import { beforeAll, expect, it } from 'vitest';
import { MOMENTS } from '../../core/contract/moments.js';
import { scrape } from '../integration/support/metrics.js';
import { bash } from '../integration/support/stack.js';
import { describeCluster } from './support/cluster.js';
import { useKubeWorker } from './support/kube-worker.js';

const ms = (at: string | undefined): number => Date.parse(at ?? '');
/** Whether the moments came in this order; each is stamped by the executor after what caused it. */
const inOrder = (...moments: (string | undefined)[]): boolean => moments.every((at, i) => i === 0 || ms(moments[i - 1]) <= ms(at));

describeCluster("an operation's timeline on Kubernetes", () => {
  const kw = useKubeWorker('timeline');
  beforeAll(() => kw.addExecutor());

  it('has every moment, the image pull with how long it took, and feeds the pod start and image pull phases', async () => {
    const metrics = () => scrape(`${kw.stack.url}/metrics`);
    const before = await metrics();
    // Long enough for the kubelet's Pulled event to be in before the run ends.
    const ticket = await kw.stack.submit(bash('echo first; sleep 3; echo last', { ticket: 'k8s-timeline' }));
    const status = await kw.stack.waitUntilDone(ticket, 90_000);
    expect(status.state).toBe('succeeded');
    const { timeline } = status;
    expect(Object.keys(timeline).sort()).toEqual([...MOMENTS, 'imagePullSeconds'].sort());
    expect(timeline.imagePullSeconds).toBeGreaterThanOrEqual(0);
    expect(inOrder(timeline.accepted, timeline.queued, timeline.picked, timeline.jobCreated, timeline.started, timeline.firstLine, timeline.recorded)).toBe(
      true,
    );
    expect(inOrder(timeline.podScheduled, timeline.started, timeline.scriptEnded, timeline.recorded)).toBe(true);

    const after = await metrics();
    const moved = (name: string): number => after.value(name, { pool: 'default' }) - before.value(name, { pool: 'default' });
    expect(moved('kube_worker_operation_pod_start_seconds_count')).toBe(1);
    expect(moved('kube_worker_operation_image_pull_seconds_count')).toBe(1);
    expect(moved('kube_worker_operation_image_pull_seconds_sum')).toBeCloseTo(timeline.imagePullSeconds!, 3);
  });
});
