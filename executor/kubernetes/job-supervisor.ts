/**
 * Supervises one script Job from creation to outcome: the thin shell around the pure reducer in
 * supervision.ts. It turns what the shared watch sees, what the log followers report, its timers
 * and a cancel into events, and the reducer's actions into calls. It holds no decision of its own.
 */
import type { RunMoment } from '../../core/contract/timeline.js';
import type { Logger } from '../../core/logger.js';
import { HANDED_BACK, type RunContext, type RunOutcome } from '../runtime.js';
import type { ClusterWatch, JobListener } from './cluster-watch.js';
import { EndMarkerReader } from './end-marker.js';
import { deleteJob } from './job-deletion.js';
import type { KubeApi } from './kube-api.js';
import { FETCH_CONTAINER, SCRIPT_CONTAINER } from './names.js';
import { eventMoment, podBound, scriptEnded } from './pod-moments.js';
import { CursorFilter, fetchLineOrigin, LogFollower, readPodLog, type LogCursor, type LogRead, type PodLogLine } from './pod-log.js';
import { startSupervision, supervise, type SupervisorAction, type SupervisorEvent, type SupervisorSettings, type TimerName } from './supervision.js';

export type { SupervisorSettings };

/** What the driver needs of the cluster: the Job's watch, its pod's logs, and deleting it. */
export interface JobPorts {
  subscribe(listener: JobListener): () => void;
  readLog(podName: string, container: string, filter: CursorFilter, follow: boolean, onLine: (line: PodLogLine) => void): LogRead;
  /** Deletes the Job and (when known) its pod at once; never throws. */
  deleteJob(podName: string | undefined): Promise<void>;
}

export interface SupervisedJob {
  context: RunContext;
  settings: SupervisorSettings;
  /** Where the script's log was stored up to (an adopted run). */
  cursor: LogCursor | undefined;
  /** Whether the pod has a packages' init container whose log this run should read, and from where. */
  readFetchLog: boolean;
  fetchCursor: LogCursor | undefined;
  logger: Logger;
}

type LogName = 'script' | 'packages';

export function superviseJob(options: SupervisedJob & { api: KubeApi; watch: ClusterWatch; jobName: string }): Promise<RunOutcome> {
  const { api, watch, jobName, logger } = options;
  const ports: JobPorts = {
    subscribe: (listener) => watch.subscribe(jobName, listener),
    readLog: (podName, container, filter, follow, onLine) => readPodLog(api, podName, filter, follow, onLine, container),
    deleteJob: (podName) => deleteJobNow(api, jobName, podName, logger),
  };
  return driveJob(ports, options);
}

export function driveJob(ports: JobPorts, job: SupervisedJob): Promise<RunOutcome> {
  const { context } = job;
  return new Promise<RunOutcome>((resolve) => {
    // Aborted once the run has its outcome: the watch and the cancel listener come off with it.
    const over = new AbortController();
    const timers = new Map<TimerName, NodeJS.Timeout>();
    const followers = new Map<LogName, LogFollower>();
    const begin = startSupervision(job.settings, { timeoutSeconds: context.timeoutSeconds, readFetchLog: job.readFetchLog });
    let state = begin.state;

    const dispatch = (event: SupervisorEvent): void => {
      const step = supervise(state, event, Date.now());
      state = step.state;
      step.actions.forEach(perform);
    };
    const follow = (name: LogName, podName: string): void => void followers.set(name, followLog(ports, job, name, podName, dispatch));

    function perform(action: SupervisorAction): void {
      switch (action.type) {
        case 'system':
          return context.output.system(action.text);
        case 'started':
          return void context.started();
        case 'readFetchLog':
          return follow('packages', action.podName);
        case 'followLogs':
          return follow('script', action.podName);
        case 'fetchEnded':
          return followers.get('packages')?.containerEnded();
        case 'scriptEnded':
          return followers.get('script')?.containerEnded();
        case 'stopLogs':
          return followers.get('script')?.cutShort();
        case 'startTimer':
          clearTimeout(timers.get(action.timer));
          timers.set(
            action.timer,
            setTimeout(() => dispatch({ type: 'timer', timer: action.timer }), action.ms),
          );
          return;
        case 'clearTimer':
          return clearTimeout(timers.get(action.timer));
        case 'deleteJob':
          return void ports.deleteJob(action.podName).finally(() => dispatch({ type: 'deleted' }));
        case 'finish':
          return end(action.outcome);
        case 'handBack':
          return end(HANDED_BACK);
      }
    }

    function end(result: RunOutcome): void {
      over.abort();
      for (const timer of timers.values()) clearTimeout(timer);
      for (const follower of followers.values()) follower.stop();
      resolve(result);
    }

    const moment = (seen: RunMoment | undefined): void => void (seen && context.moment(seen));

    begin.actions.forEach(perform);
    // The subscription may replay a finished pod at once, and so end the run before it returns.
    const stopWatching = ports.subscribe({
      pod: (pod) => {
        moment(podBound(pod));
        dispatch({ type: 'pod', pod });
        moment(scriptEnded(pod));
      },
      podDeleted: (pod) => dispatch({ type: 'podDeleted', pod }),
      job: (job) => dispatch({ type: 'job', job }),
      jobDeleted: () => dispatch({ type: 'jobDeleted' }),
      event: (event) => {
        moment(eventMoment(event));
        dispatch({ type: 'event', event });
      },
    });
    if (over.signal.aborted) stopWatching();
    else over.signal.addEventListener('abort', stopWatching);
    const onAbort = (): void => dispatch({ type: 'abort', reason: context.signal.reason === 'shutdown' ? 'shutdown' : 'cancel' });
    context.signal.addEventListener('abort', onAbort, { signal: over.signal });
    if (context.signal.aborted) onAbort();
  });
}

/** Starts following one of the pod's logs from where it was stored up to; it reports into `dispatch`. */
function followLog(ports: JobPorts, job: SupervisedJob, name: LogName, podName: string, dispatch: (event: SupervisorEvent) => void): LogFollower {
  const { output } = job.context;
  const log =
    name === 'script'
      ? {
          container: SCRIPT_CONTAINER,
          cursor: job.cursor,
          done: 'logsDone' as const,
          take: scriptLines(new EndMarkerReader(job.cursor === undefined), job.context, dispatch),
        }
      : {
          container: FETCH_CONTAINER,
          cursor: job.fetchCursor,
          done: 'fetchLogRead' as const,
          take: (line: PodLogLine) => output.system(line.text, fetchLineOrigin(line.origin)),
        };
  const filter = new CursorFilter(log.cursor);
  const follower = new LogFollower({
    read: (live) => ports.readLog(podName, log.container, filter, live, log.take),
    onDone: () => dispatch({ type: log.done }),
    onError: (error, last) =>
      last
        ? job.logger.warn({ err: error }, `could not read the end of the ${name} log`)
        : job.logger.debug({ err: error }, `the ${name} log stream ended with an error`),
  });
  follower.start();
  return follower;
}

/** The script's lines into its output, but for the launcher's own, whose end line becomes `scriptExit`. */
function scriptLines(reader: EndMarkerReader, context: RunContext, dispatch: (event: SupervisorEvent) => void): (line: PodLogLine) => void {
  return (line) => {
    const read = line.stream === 'stdout' ? reader.read(line.text) : { kind: 'line' as const, text: line.text };
    if (read.kind === 'skip') return;
    if (read.kind === 'line') return context.output.line(line.stream, read.text, line.at, line.origin);
    if (read.before) context.output.line(line.stream, read.before, line.at, line.origin);
    // The end line comes before the pod's status says so, and the result it lets us record closes the timeline.
    context.moment({ name: 'scriptEnded' });
    dispatch({ type: 'scriptExit', exit: read.exit });
  };
}

/** Deletes the Job and its pod without grace: a cancel stops the script now. */
async function deleteJobNow(api: KubeApi, jobName: string, podName: string | undefined, logger: Logger): Promise<void> {
  await deleteJob(api, jobName, 'now').catch((error: unknown) => logger.warn({ err: error, jobName }, 'could not delete the Job'));
  if (podName) {
    await api.call('delete', () => api.core.deleteNamespacedPod({ name: podName, namespace: api.namespace, gracePeriodSeconds: 0 })).catch(() => undefined); // already going with its Job
  }
}
