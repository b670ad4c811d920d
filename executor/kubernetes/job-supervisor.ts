/**
 * Supervises one script Job from creation to outcome, driven by the shared watch: says why the pod
 * waits (scheduling and pull events become system lines), gives up on a pod pending too long,
 * follows the script's log once it runs, and tells script failures from infrastructure ones.
 */
import type * as k8s from '@kubernetes/client-node';
import { EXIT_CODES, type Failure } from '../../core/contract/status.js';
import type { Logger } from '../../core/logger.js';
import { HandBackError, type RunContext, type RunOutcome } from '../runtime.js';
import type { ClusterWatch } from './cluster-watch.js';
import type { KubeApi } from './kube-api.js';
import { jobFailure, viewPod, type PodView } from './pod-state.js';
import { CursorFilter, readPodLog, type LogCursor } from './pod-log.js';

export interface SupervisorSettings {
  podPendingTimeoutSeconds: number;
  imagePullGraceSeconds: number;
}

/** Lines are wanted for these event reasons; the rest (Created, Started, …) say nothing new. */
const EVENT_REASONS = new Set(['Scheduled', 'FailedScheduling', 'Pulling', 'Pulled', 'Failed', 'BackOff', 'ErrImageNeverPull', 'InspectFailed', 'FailedMount', 'Evicted', 'Killing', 'OOMKilling', 'DeadlineExceeded', 'Preempting', 'FailedCreate']);
/** How long a finished container's log may take to end before it is read once more instead. */
const LOG_DRAIN_MS = 10_000;
/** How long to wait for the Job to say its deadline passed after its pod went. */
const SETTLE_MS = 3000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function deadlinePassed(job: k8s.V1Job | undefined): boolean {
  const start = job?.status?.startTime ? new Date(job.status.startTime).getTime() : undefined;
  const deadline = job?.spec?.activeDeadlineSeconds;
  return start !== undefined && deadline !== undefined && start + deadline * 1000 <= Date.now() + 1000;
}

export function superviseJob(options: {
  api: KubeApi;
  watch: ClusterWatch;
  jobName: string;
  context: RunContext;
  settings: SupervisorSettings;
  cursor: LogCursor | undefined;
  logger: Logger;
}): Promise<RunOutcome> {
  const { api, watch, jobName, context, settings, logger } = options;
  const { output } = context;
  return new Promise<RunOutcome>((resolve, reject) => {
    let settled = false;
    let started = false;
    let cancelling = false;
    let podName: string | undefined;
    let job: k8s.V1Job | undefined;
    let waiting: Extract<PodView, { kind: 'waiting' }> | undefined;
    let schedulingMessage: string | undefined;
    let finished: RunOutcome | undefined;
    let logsDone = false;
    let following: Promise<void> | undefined;
    let reader: ReturnType<typeof readPodLog> | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let settleTimer: NodeJS.Timeout | undefined;
    const seenEvents = new Set<string>();
    const filter = new CursorFilter(options.cursor);
    const timers: NodeJS.Timeout[] = [];
    // Assigned once subscribed; the subscription may replay a finished pod at once.
    let unsubscribe = (): void => undefined;

    const finish = (outcome: RunOutcome | Error): void => {
      if (settled) return;
      settled = true;
      for (const timer of [...timers, graceTimer, settleTimer]) clearTimeout(timer);
      unsubscribe();
      reader?.stop();
      context.signal.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const fail = (exitCode: number, failure: Failure): void => finish({ exitCode, failure });

    /** The outcome once both the result and the whole log are in; the Job's own verdict wins. */
    const maybeFinish = (): void => {
      // Once cancelling, the pod's end is the cancel's doing, not the script's outcome.
      if (!finished || !logsDone || cancelling) return;
      const verdict = job ? jobFailure(job) : undefined;
      if (verdict) return finish(verdict);
      if (finished.failure && deadlinePassed(job)) {
        settleTimer ??= setTimeout(() => finish((job && jobFailure(job)) ?? finished!), SETTLE_MS);
        return;
      }
      finish(finished);
    };

    const reportStarted = (): void => {
      if (started) return;
      started = true;
      clearTimeout(graceTimer);
      void context.started();
    };

    const followLogs = async (): Promise<void> => {
      for (let attempt = 0; !settled; attempt += 1) {
        if (!podName) return;
        let drained = true;
        reader = readPodLog(api, podName, filter, true, (line) => output.line(line.stream, line.text, line.at, line.origin));
        const watchdog = setInterval(() => {
          if (finished) {
            drained = false;
            reader?.stop();
          }
        }, LOG_DRAIN_MS);
        try {
          await reader.done;
        } catch (error) {
          drained = false;
          logger.debug({ err: error, jobName }, 'log stream ended with an error');
        } finally {
          clearInterval(watchdog);
        }
        if (settled) return;
        if (finished) {
          if (!drained) {
            const last = readPodLog(api, podName, filter, false, (line) => output.line(line.stream, line.text, line.at, line.origin));
            await last.done.catch((error: unknown) => logger.warn({ err: error, jobName }, 'could not read the end of the log'));
          }
          logsDone = true;
          return maybeFinish();
        }
        await sleep(Math.min(200 * 2 ** attempt, 5000));
      }
    };
    const startFollowing = (): void => {
      following ??= followLogs().catch((error: unknown) => logger.warn({ err: error, jobName }, 'following the log failed'));
    };

    const onView = (view: PodView): void => {
      if (cancelling) return;
      if (view.kind === 'running') {
        reportStarted();
        return startFollowing();
      }
      if (view.kind === 'finished') {
        reportStarted();
        finished ??= { exitCode: view.exitCode, ...(view.failure ? { failure: view.failure } : {}) };
        return startFollowing();
      }
      if (started) return;
      waiting = view;
      if (view.pull === 'invalid') {
        return fail(EXIT_CODES.timedOut, { reason: 'ImagePullFailed', message: `The image name is invalid: ${view.message ?? view.reason}` });
      }
      if (view.pull === 'failing' || view.configError) {
        graceTimer ??= setTimeout(() => {
          const detail = `${waiting?.reason}: ${waiting?.message ?? ''}`.trim();
          if (waiting?.pull) fail(EXIT_CODES.timedOut, { reason: 'ImagePullFailed', message: `The image could not be pulled for ${settings.imagePullGraceSeconds}s — ${detail}` });
          else fail(EXIT_CODES.fatal, { reason: 'RuntimeError', message: `The script container could not be created — ${detail}` });
        }, settings.imagePullGraceSeconds * 1000);
      } else if (graceTimer) {
        clearTimeout(graceTimer);
        graceTimer = undefined;
      }
    };

    const stopListening = watch.subscribe(jobName, {
      pod(pod) {
        podName = pod.metadata?.name;
        onView(viewPod(pod));
      },
      podDeleted(pod) {
        if (cancelling || finished) return;
        const outcome = viewPod(pod);
        if (outcome.kind === 'finished') return onView(outcome);
        settleTimer ??= setTimeout(() => {
          finished = (job && jobFailure(job)) ?? { exitCode: EXIT_CODES.podVanished, failure: { reason: 'PodDeleted', message: 'The script pod was deleted before the script finished' } };
          logsDone ||= !following;
          if (following) reader?.stop();
          maybeFinish();
        }, SETTLE_MS);
      },
      job(latest) {
        job = latest;
        const verdict = jobFailure(latest);
        if (verdict && !cancelling) {
          finished = verdict;
          logsDone ||= !following;
          maybeFinish();
        }
      },
      jobDeleted() {
        if (cancelling || finished) return;
        finished = { exitCode: EXIT_CODES.podVanished, failure: { reason: 'PodDeleted', message: 'The script Job was deleted before the script finished' } };
        logsDone ||= !following;
        maybeFinish();
      },
      event(event) {
        const key = `${event.metadata?.uid}/${event.count ?? 1}`;
        if (seenEvents.has(key) || !event.reason || !EVENT_REASONS.has(event.reason)) return;
        seenEvents.add(key);
        if (event.reason === 'FailedScheduling') schedulingMessage = event.message;
        output.system(`${event.reason}: ${event.message ?? ''}`.trim());
      },
    });
    if (settled) stopListening();
    else unsubscribe = stopListening;

    timers.push(
      setTimeout(() => {
        if (started) return;
        const seconds = settings.podPendingTimeoutSeconds;
        if (waiting?.pull) {
          return fail(EXIT_CODES.timedOut, { reason: 'ImagePullFailed', message: `The image could not be pulled within ${seconds}s — ${waiting.reason}: ${waiting.message ?? ''}`.trim() });
        }
        const why = schedulingMessage ?? waiting?.message ?? waiting?.reason ?? 'no reason reported';
        fail(EXIT_CODES.timedOut, { reason: 'Unschedulable', message: `The script pod was still pending after ${seconds}s: ${why}` });
      }, settings.podPendingTimeoutSeconds * 1000),
    );

    async function cancel(): Promise<void> {
      cancelling = true;
      const grace = { gracePeriodSeconds: 0 };
      await api
        .call('delete', () => api.batch.deleteNamespacedJob({ name: jobName, namespace: api.namespace, propagationPolicy: 'Foreground', ...grace }))
        .catch((error: unknown) => logger.warn({ err: error, jobName }, 'could not delete the Job'));
      if (podName) {
        await api
          .call('delete', () => api.core.deleteNamespacedPod({ name: podName!, namespace: api.namespace, ...grace }))
          .catch(() => undefined); // already going with its Job
      }
      fail(EXIT_CODES.cancelled, { reason: 'Cancelled', message: started ? 'Cancelled while running' : 'Cancelled before the script started' });
    }

    function onAbort(): void {
      if (context.signal.reason === 'shutdown') return finish(new HandBackError());
      void cancel();
    }
    context.signal.addEventListener('abort', onAbort);
    if (context.signal.aborted) onAbort();
  });
}
