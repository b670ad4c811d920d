/**
 * Supervises one script Job from creation to outcome: the thin shell around the pure reducer in
 * supervision.ts. It feeds the reducer what the shared watch sees, the end of the pod's log, its
 * timers and a cancel, and performs what the reducer asks: system lines, following the log,
 * timers, deleting the Job on cancel, and settling the run.
 */
import type { Logger } from '../../core/logger.js';
import { HANDED_BACK, type RunContext, type RunOutcome } from '../runtime.js';
import type { ClusterWatch } from './cluster-watch.js';
import type { KubeApi } from './kube-api.js';
import { FETCH_CONTAINER } from './names.js';
import { CursorFilter, fetchLineOrigin, readPodLog, type LogCursor } from './pod-log.js';
import { startSupervision, supervise, type SupervisorAction, type SupervisorEvent, type SupervisorSettings, type SupervisorState, type TimerName } from './supervision.js';

export type { SupervisorSettings };

/** How long a finished container's log may take to end before it is read once more instead. */
const LOG_DRAIN_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function superviseJob(options: {
  api: KubeApi;
  watch: ClusterWatch;
  jobName: string;
  context: RunContext;
  settings: SupervisorSettings;
  /** Where the script's log was stored up to (an adopted run). */
  cursor: LogCursor | undefined;
  logger: Logger;
  /** Whether the pod has a packages' init container whose log this run should read, and from where. */
  readFetchLog: boolean;
  fetchCursor: LogCursor | undefined;
}): Promise<RunOutcome> {
  const { api, watch, jobName, context, logger } = options;
  const { output } = context;
  return new Promise<RunOutcome>((resolve, reject) => {
    let state: SupervisorState;
    let settled = false;
    let scriptEnded = false;
    let reader: ReturnType<typeof readPodLog> | undefined;
    // The script's log is followed only after the packages' lines are in, so the log reads in order.
    let fetchLogRead: Promise<void> = Promise.resolve();
    const filter = new CursorFilter(options.cursor);
    const timers = new Map<TimerName, NodeJS.Timeout>();
    // Assigned once subscribed; the subscription may replay a finished pod at once.
    let unsubscribe = (): void => undefined;

    const dispatch = (event: SupervisorEvent): void => {
      if (settled) return;
      const step = supervise(state, event, Date.now());
      state = step.state;
      for (const action of step.actions) perform(action);
    };

    const settle = (outcome: RunOutcome | Error): void => {
      settled = true;
      for (const timer of timers.values()) clearTimeout(timer);
      unsubscribe();
      reader?.stop();
      context.signal.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };

    function perform(action: SupervisorAction): void {
      switch (action.type) {
        case 'system':
          return output.system(action.text);
        case 'started':
          return void context.started();
        case 'readFetchLog':
          fetchLogRead = readFetchLog().finally(() => dispatch({ type: 'fetchLogRead' }));
          return;
        case 'followLogs':
          return void followLogs().catch((error: unknown) => logger.warn({ err: error, jobName }, 'following the log failed'));
        case 'scriptEnded':
          scriptEnded = true;
          return;
        case 'stopLogs':
          return reader?.stop();
        case 'startTimer':
          clearTimeout(timers.get(action.timer));
          timers.set(action.timer, setTimeout(() => dispatch({ type: 'timer', timer: action.timer }), action.ms));
          return;
        case 'clearTimer':
          clearTimeout(timers.get(action.timer));
          timers.delete(action.timer);
          return;
        case 'deleteJob':
          return void deleteJob(action.podName).finally(() => dispatch({ type: 'deleted' }));
        case 'finish':
          return settle(action.outcome);
        case 'handBack':
          return settle(HANDED_BACK);
      }
    }

    /**
     * The packages' init container's lines (progress, sizes, why it failed) as system lines,
     * followed while it runs; once it has ended, read once more from where the follow stopped.
     */
    async function readFetchLog(): Promise<void> {
      const filter = new CursorFilter(options.fetchCursor);
      const take = (line: { text: string; origin: string }): void => output.system(line.text, fetchLineOrigin(line.origin));
      for (let attempt = 0; !settled; attempt += 1) {
        const podName = state.podName;
        if (!podName) return;
        const ended = state.fetchEnded;
        const read = readPodLog(api, podName, filter, !ended, take, FETCH_CONTAINER);
        const done = await read.done.then(() => true, (error: unknown) => void logger.debug({ err: error, jobName }, 'the packages\' log stream ended with an error'));
        if (ended && done) return;
        if (ended && attempt > 3) return logger.warn({ jobName }, 'could not read the end of the packages\' init container\'s log');
        if (!state.fetchEnded) await sleep(Math.min(200 * 2 ** attempt, 5000));
      }
    }

    /** Follows the pod's log until the script has ended and every line is read, then says so. */
    async function followLogs(): Promise<void> {
      await fetchLogRead;
      for (let attempt = 0; !settled; attempt += 1) {
        const podName = state.podName;
        if (!podName) return;
        let drained = true;
        reader = readPodLog(api, podName, filter, true, (line) => output.line(line.stream, line.text, line.at, line.origin));
        const watchdog = setInterval(() => {
          if (scriptEnded) {
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
        if (scriptEnded) {
          if (!drained) {
            const last = readPodLog(api, podName, filter, false, (line) => output.line(line.stream, line.text, line.at, line.origin));
            await last.done.catch((error: unknown) => logger.warn({ err: error, jobName }, 'could not read the end of the log'));
          }
          return dispatch({ type: 'logsDone' });
        }
        await sleep(Math.min(200 * 2 ** attempt, 5000));
      }
    }

    async function deleteJob(podName: string | undefined): Promise<void> {
      const grace = { gracePeriodSeconds: 0 };
      await api
        .call('delete', () => api.batch.deleteNamespacedJob({ name: jobName, namespace: api.namespace, propagationPolicy: 'Foreground', ...grace }))
        .catch((error: unknown) => logger.warn({ err: error, jobName }, 'could not delete the Job'));
      if (podName) {
        await api.call('delete', () => api.core.deleteNamespacedPod({ name: podName, namespace: api.namespace, ...grace })).catch(() => undefined); // already going with its Job
      }
    }

    function onAbort(): void {
      dispatch({ type: 'abort', reason: context.signal.reason === 'shutdown' ? 'shutdown' : 'cancel' });
    }

    const start = startSupervision(options.settings, { readFetchLog: options.readFetchLog });
    state = start.state;
    for (const action of start.actions) perform(action);

    const stopListening = watch.subscribe(jobName, {
      pod: (pod) => dispatch({ type: 'pod', pod }),
      podDeleted: (pod) => dispatch({ type: 'podDeleted', pod }),
      job: (job) => dispatch({ type: 'job', job }),
      jobDeleted: () => dispatch({ type: 'jobDeleted' }),
      event: (event) => dispatch({ type: 'event', event }),
    });
    if (settled) stopListening();
    else unsubscribe = stopListening;

    context.signal.addEventListener('abort', onAbort);
    if (context.signal.aborted) onAbort();
  });
}
