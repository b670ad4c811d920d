/**
 * Every way an operation can end, in one place: its state, its exit code and the one message a
 * person reads. Runtimes, the Job supervisor, the executor and the cancel of a queued operation pick
 * an outcome from here by name; none of them spells a failure of its own.
 */
import { EXIT_CODES, type Failure, type FailureReason, type OperationState } from './status.js';

/** How an operation ended. */
export interface Outcome {
  state: Extract<OperationState, 'succeeded' | 'failed' | 'cancelled'>;
  exitCode: number;
  failure?: Failure;
  /**
   * The failure's message is wholly the product's own words, quoting nothing from outside (the
   * script, an error, a package server, the cluster): shown as it is, never masked, since a
   * sensitive value that happens to be one of those words would be given away by the mask. Any
   * other message, including one a runtime spells itself, is masked. On the outcome rather than on
   * the failure, which is stored and served as it is: this says how to show it, not what happened.
   */
  ownWords?: true;
}

const failed = (exitCode: number, reason: FailureReason, message: string): Outcome => ({ state: 'failed', exitCode, failure: { reason, message } });

const own = (outcome: Outcome): Outcome => ({ ...outcome, ownWords: true });

const dash = (detail: string | undefined): string => (detail ? ` — ${detail}` : '');

export const outcomes = {
  succeeded: (): Outcome => ({ state: 'succeeded', exitCode: 0 }),

  /** The script's own exit code; `signal` when a signal ended it. */
  scriptFailed: (exitCode: number, signal?: string): Outcome =>
    own(failed(exitCode, 'ScriptFailed', signal ? `The script was killed by ${signal}` : `The script exited with code ${exitCode}`)),

  cancelled: (when: 'running' | 'before start' | 'waiting for its mutex'): Outcome => {
    const message =
      when === 'running'
        ? 'Cancelled while running'
        : when === 'before start'
          ? 'Cancelled before the script started'
          : 'Cancelled while waiting for its mutex';
    return own({ state: 'cancelled', exitCode: EXIT_CODES.cancelled, failure: { reason: 'Cancelled', message } });
  },

  /** The operation's own timeout passed while it ran. */
  deadlineExceeded: (timeoutSeconds: number): Outcome =>
    own(failed(EXIT_CODES.timedOut, 'DeadlineExceeded', `The operation ran longer than its timeout of ${timeoutSeconds}s and was stopped`)),

  mutexTimeout: (detail: string): Outcome => failed(EXIT_CODES.timedOut, 'MutexTimeout', `${detail}; another operation held it for the whole time`),

  /** Its hold on the mutex was found taken by another operation: the run was stopped. */
  mutexLost: (mutexName: string): Outcome =>
    own(failed(EXIT_CODES.fatal, 'RuntimeError', `Stopped because its hold on mutex "${mutexName}" was lost to another operation`)),

  /** The executor that had it went silent; the script is not run again, so that it never runs twice. */
  executorLost: (previousExecutor: string | undefined): Outcome =>
    own(
      failed(
        EXIT_CODES.unknown,
        'ExecutorLost',
        `The executor running this operation (${previousExecutor || 'unknown'}) stopped without reporting a result; it is not run again so that no script runs twice`,
      ),
    ),

  /** BullMQ gave up on it: its executors kept stopping while they held it. */
  executorStalled: (detail: string): Outcome => failed(EXIT_CODES.unknown, 'ExecutorLost', `The executor running this operation stopped repeatedly: ${detail}`),

  /** The executor itself failed while running it. */
  executorError: (detail: string): Outcome => failed(EXIT_CODES.fatal, 'RuntimeError', `The executor could not run the operation: ${detail}`),

  /** A package could not be downloaded, verified or unpacked, so the script did not start; `detail` names the package and why. */
  packageFailed: (detail: string): Outcome => failed(EXIT_CODES.packageFailed, 'PackageFailed', detail),

  /** The runtime cannot run the script at all; `detail` says why and what to do. */
  runtimeError: (detail: string): Outcome => failed(EXIT_CODES.fatal, 'RuntimeError', detail),

  /** A local script stopped because its executor shut down: it cannot be handed over. */
  shutDown: (): Outcome =>
    own(failed(EXIT_CODES.fatal, 'RuntimeError', 'The executor shut down before the script finished, and a local script cannot be handed over')),

  /**
   * A warm pod's operation never reached it whole (the session that carried it broke, or it could
   * not be sent): none of the script ran, and it is not sent again, since a pod takes one session only.
   */
  warmPayloadUndelivered: (detail?: string): Outcome => {
    const outcome = failed(EXIT_CODES.fatal, 'RuntimeError', `The operation did not reach its warm pod whole, so none of its script ran${dash(detail)}`);
    return detail ? outcome : own(outcome);
  },

  jobRefused: (detail: string): Outcome => failed(EXIT_CODES.fatal, 'RuntimeError', `Kubernetes refused the script Job: ${detail}`),

  /** The cluster will not admit the script pod (Pod Security, a webhook, an invalid spec); `detail` is the API server's reason. */
  podRefused: (detail: string): Outcome => failed(EXIT_CODES.fatal, 'RuntimeError', `Kubernetes refused to create the script pod: ${detail}`),

  containerNotCreated: (detail: string): Outcome => failed(EXIT_CODES.fatal, 'RuntimeError', `The script container could not be created${dash(detail)}`),

  /** The kubelet refused the image reference at once: nothing timed out, the worker could not run it. */
  imageInvalid: (detail: string): Outcome => failed(EXIT_CODES.fatal, 'ImagePullFailed', `The image name is invalid: ${detail}`),

  /** `within`: the pull kept failing for the pull grace, or the pod stayed pending for its whole timeout. */
  imagePullFailed: (seconds: number, detail: string, within: 'grace' | 'pending'): Outcome =>
    failed(EXIT_CODES.timedOut, 'ImagePullFailed', `The image could not be pulled ${within === 'grace' ? 'for' : 'within'} ${seconds}s${dash(detail)}`),

  unschedulable: (seconds: number, why: string): Outcome =>
    failed(EXIT_CODES.timedOut, 'Unschedulable', `The script pod was still pending after ${seconds}s: ${why}`),

  /**
   * The kernel killed a process of the script's container for memory. The container's own exit code
   * says nothing then: a shell whose child was killed may go on and exit 0. So the code is the
   * contract's, not the container's.
   */
  oomKilled: (): Outcome => own(failed(EXIT_CODES.podVanished, 'OOMKilled', 'The script used more memory than its limit and was killed')),

  evicted: (message: string | undefined): Outcome => failed(EXIT_CODES.podVanished, 'Evicted', message ?? 'The pod was evicted from its node'),

  /** Something other than kube-worker deleted the script's pod or Job before the script finished. */
  podDeleted: (what: 'pod' | 'Job'): Outcome => own(failed(EXIT_CODES.podVanished, 'PodDeleted', `The script ${what} was deleted before the script finished`)),

  /** The node failed the pod before its script container ran (admission: OutOfcpu, NodeAffinity; a node shut down or lost). */
  podFailed: (message: string | undefined, reason: string | undefined): Outcome =>
    failed(EXIT_CODES.podVanished, 'PodFailed', message ?? `The pod failed before the script ran${reason ? ` (${reason})` : ''}`),

  /** Picked up again after its executor was lost, the Job it had started was gone. */
  jobGone: (jobName: string): Outcome =>
    own(
      failed(
        EXIT_CODES.podVanished,
        'PodDeleted',
        `Job ${jobName} was gone when its operation was picked up again; the script had started, so it is not run twice`,
      ),
    ),
} as const;

/** The system line that ends every operation's log. */
export function describeOutcome(outcome: Outcome): string {
  if (outcome.state === 'succeeded') return 'Succeeded';
  return `${outcome.state === 'cancelled' ? 'Cancelled' : 'Failed'} with exit code ${outcome.exitCode}: ${outcome.failure?.message ?? 'no reason given'}`;
}
