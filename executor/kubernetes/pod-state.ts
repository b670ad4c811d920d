/**
 * Reading where a script pod is (pure): still waiting (and why), running, or finished with an exit
 * code and — when the cause is not the script — an infrastructure failure reason.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { outcomes, type Outcome } from '../../core/contract/outcomes.js';
import { FETCH_CONTAINER, SCRIPT_CONTAINER } from './names.js';
import { UNDELIVERED_EXIT, UNDELIVERED_NOTE } from './warm-pod-spec.js';

export type PodView =
  /** `fetching`: the packages' init container runs; the pod is scheduled and its download has the timeout. */
  | { kind: 'waiting'; reason?: string; message?: string; pull?: 'failing' | 'invalid'; configError?: boolean; fetching?: boolean }
  | { kind: 'running' }
  | { kind: 'finished'; outcome: Outcome }
  /** Ended before the script could start: its packages could not be fetched. */
  | { kind: 'failedBeforeStart'; outcome: Outcome };

const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'RegistryUnavailable']);
const CONFIG_FAILURES = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export function viewPod(pod: V1Pod): PodView {
  const status = pod.status;
  if (status?.phase === 'Failed' && status.reason === 'Evicted') {
    return { kind: 'finished', outcome: outcomes.evicted(status.message) };
  }
  const fetch = status?.initContainerStatuses?.find((c) => c.name === FETCH_CONTAINER);
  const fetched = fetch?.state?.terminated;
  if (fetched && fetched.exitCode !== 0) {
    // `kube-worker fetch` writes why to its termination message.
    const why =
      fetched.message?.trim() ||
      `The packages could not be fetched: the ${FETCH_CONTAINER} container exited with code ${fetched.exitCode}${fetched.reason ? ` (${fetched.reason})` : ''}`;
    return { kind: 'failedBeforeStart', outcome: outcomes.packageFailed(why) };
  }
  if (fetch?.state?.running) return { kind: 'waiting', reason: 'FetchingPackages', fetching: true };
  const container = fetch && !fetched ? fetch : status?.containerStatuses?.find((c) => c.name === SCRIPT_CONTAINER);
  const terminated = container === fetch ? undefined : container?.state?.terminated;
  if (terminated) {
    if (terminated.reason === 'OOMKilled') return { kind: 'finished', outcome: outcomes.oomKilled() };
    if (terminated.exitCode === UNDELIVERED_EXIT && terminated.message === UNDELIVERED_NOTE) {
      return { kind: 'finished', outcome: outcomes.warmPayloadUndelivered() };
    }
    return { kind: 'finished', outcome: exitOutcome(terminated.exitCode) };
  }
  if (container !== fetch && container?.state?.running) return { kind: 'running' };
  if (status?.phase === 'Failed') {
    return { kind: 'finished', outcome: outcomes.podFailed(status.message, status.reason) };
  }
  const waiting = container?.state?.waiting;
  if (waiting?.reason === 'InvalidImageName') return { kind: 'waiting', reason: waiting.reason, message: waiting.message, pull: 'invalid' };
  if (waiting?.reason && PULL_FAILURES.has(waiting.reason)) return { kind: 'waiting', reason: waiting.reason, message: waiting.message, pull: 'failing' };
  if (waiting?.reason && CONFIG_FAILURES.has(waiting.reason)) return { kind: 'waiting', reason: waiting.reason, message: waiting.message, configError: true };
  const unscheduled = status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled) return { kind: 'waiting', reason: unscheduled.reason ?? 'Unschedulable', message: unscheduled.message };
  return { kind: 'waiting', reason: waiting?.reason, message: waiting?.message };
}

/** The outcome of a script that exited by itself with this code (its pod's status, or its launcher's end line). */
export const exitOutcome = (exitCode: number): Outcome => (exitCode === 0 ? outcomes.succeeded() : outcomes.scriptFailed(exitCode));

/** Whether the packages' init container has ended, so its log is complete. */
export const fetchEnded = (pod: V1Pod): boolean =>
  pod.status?.initContainerStatuses?.some((c) => c.name === FETCH_CONTAINER && c.state?.terminated !== undefined) ?? false;

/**
 * A failure the Job itself reports: its active deadline, the operation's timeout, passing. The
 * timeout is the one the run was given, not read back from the Job it went into.
 */
export function jobFailure(job: V1Job, timeoutSeconds: number): Outcome | undefined {
  // FailureTarget comes first, as soon as the deadline passes; Failed only once the pod is gone, a grace period later.
  const failed = job.status?.conditions?.find((c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True');
  if (failed?.reason === 'DeadlineExceeded') return outcomes.deadlineExceeded(timeoutSeconds);
  return undefined;
}
