/**
 * The timeline's Kubernetes moments in what the shared watch already sees of a run (pure): its pod
 * bound to a node, the script's image on the node, the script's container ended. Reading the same
 * pod again gives the same moments; the run keeps the first sighting (executor/run-timeline.ts).
 * The script's start is the supervision's own (RunContext.started): a pod is read for its binding
 * before that step and for its end after it, so that a pod first seen ended was bound, started and
 * ended in that order.
 */
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { RunMoment } from '../../core/contract/timeline.js';
import { SCRIPT_CONTAINER } from './names.js';

export function podBound(pod: V1Pod): RunMoment | undefined {
  return pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'True') ? { name: 'podScheduled' } : undefined;
}

export function scriptEnded(pod: V1Pod): RunMoment | undefined {
  return pod.status?.containerStatuses?.some((c) => c.name === SCRIPT_CONTAINER && c.state?.terminated) ? { name: 'scriptEnded' } : undefined;
}

/** The kubelet's Pulled event of the script's container: how long the pull took, 0 when the image was there. */
export function eventMoment(event: CoreV1Event): RunMoment | undefined {
  if (event.reason !== 'Pulled' || event.involvedObject.fieldPath !== `spec.containers{${SCRIPT_CONTAINER}}`) return undefined;
  const pullSeconds = pulledIn(event.message ?? '');
  return pullSeconds === undefined ? undefined : { name: 'imagePulled', pullSeconds };
}

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const PULLED_IN = / in ((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)(?=[\s.,]|$)/;
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;

/**
 * Seconds from the kubelet's message: `Successfully pulled image "x" in 1.153s (1.153s including
 * waiting)…` (a Go duration) or `Container image "x" already present on machine` (0); undefined
 * for a message it does not know.
 */
export function pulledIn(message: string): number | undefined {
  if (/already present on machine/.test(message)) return 0;
  const duration = PULLED_IN.exec(message)?.[1];
  if (duration === undefined) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of duration.matchAll(PART)) seconds += Number(amount) * UNIT_SECONDS[unit!]!;
  return Math.round(seconds * 1000) / 1000;
}
