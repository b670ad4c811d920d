/**
 * How one script Job goes from created to an outcome, as a pure reducer: `supervise(state, event,
 * now)` gives the next state and the actions to perform. The driver (job-supervisor.ts) feeds it
 * what the shared watch sees, what the log followers report, its timers and a cancel, and performs
 * the actions.
 *
 * What it decides: say why the pod waits (scheduling and pull events become system lines); give up
 * on a pod pending too long or an image that keeps failing to pull; follow the packages' log, then
 * the script's once it runs; tell script failures from infrastructure ones; and finish only once
 * both the script's end and the whole log are in — the Job's own verdict (its deadline) winning over
 * the pod's.
 *
 * The script's end comes first from its own log: the launcher's end line (end-marker.ts), which the
 * log follower reads and checks, gives the exit code with every line before it. The pod's status
 * still decides what only it knows: a container that saw an OOM kill (or whose count is unknown),
 * and a pod that something else is deleting, wait for it as before.
 *
 * The state is one of these phases, each with only what it needs:
 *
 *   pending ──download runs──► fetching ──script runs──► running ──script ends──► settling ──► ended
 *                                                            (its end line, or its pod's status)
 *      │                          │                        │                         ▲
 *      └──────────────────────────┴──── pod deleted ──► vanished ── settle timer ────┘
 *   any phase ── cancel ──► cancelling ── Job deleted ──► ended;   any phase ── shutdown ──► ended
 *
 * Before the script runs, an end imposed from outside (the Job's deadline, the Job deleted, the
 * download failing) goes straight to settling, as does a pod seen only once its script ended.
 */
import type * as k8s from '@kubernetes/client-node';
import { outcomes, type Outcome } from '../../core/contract/outcomes.js';
import { podRefusal } from './admission.js';
import type { ScriptExit } from './end-marker.js';
import { FETCH_CONTAINER } from './names.js';
import { exitOutcome, fetchEnded, jobFailure, viewPod, type PodView } from './pod-state.js';

export interface SupervisorSettings {
  podPendingTimeoutSeconds: number;
  imagePullGraceSeconds: number;
}

/** What this one run is, given once when it starts. */
export interface SupervisedRun {
  /** The operation's timeout, which the Job carries as its active deadline. */
  timeoutSeconds: number;
  /** Whether the pod has a packages' init container whose log this run should read. */
  readFetchLog: boolean;
}

/** How long to wait for the Job to say its deadline passed after its pod went. */
export const SETTLE_MS = 3000;

/** Lines are wanted for these event reasons; the rest (Created, Started, …) say nothing new. */
const EVENT_REASONS = new Set([
  'Scheduled',
  'FailedScheduling',
  'Pulling',
  'Pulled',
  'Failed',
  'BackOff',
  'ErrImageNeverPull',
  'InspectFailed',
  'FailedMount',
  'Evicted',
  'Killing',
  'OOMKilling',
  'DeadlineExceeded',
  'Preempting',
  'FailedCreate',
]);

export type TimerName = 'pending' | 'pullGrace' | 'settle';

export type SupervisorEvent =
  | { type: 'pod'; pod: k8s.V1Pod }
  | { type: 'podDeleted'; pod: k8s.V1Pod }
  | { type: 'job'; job: k8s.V1Job }
  | { type: 'jobDeleted' }
  | { type: 'event'; event: k8s.CoreV1Event }
  | { type: 'timer'; timer: TimerName }
  /** The script's log follower has every line (or the pod went and it stopped). */
  | { type: 'logsDone' }
  /** The launcher's end line, checked against its seal: every line of the script is in, and this is how it exited. */
  | { type: 'scriptExit'; exit: ScriptExit }
  /** The packages' log follower has every line (or could not get them). */
  | { type: 'fetchLogRead' }
  | { type: 'abort'; reason: 'cancel' | 'shutdown' }
  /** The Job and pod a cancel deletes are deleted (or could not be). */
  | { type: 'deleted' };

export type SupervisorAction =
  | { type: 'system'; text: string }
  /** The script started: the operation shows as running. */
  | { type: 'started' }
  /** Follow the script container's log; the follower reports logsDone once told it ended and every line is in. */
  | { type: 'followLogs'; podName: string }
  /** Follow the packages' init container's log as system lines; its follower reports fetchLogRead. */
  | { type: 'readFetchLog'; podName: string }
  /** The packages' init container ended: its follower reads what is left and reports. */
  | { type: 'fetchEnded' }
  /** The script ended: its follower reads what is left and reports. */
  | { type: 'scriptEnded' }
  /** The pod is gone: the script's follower stops now and reports with what it read. */
  | { type: 'stopLogs' }
  | { type: 'startTimer'; timer: TimerName; ms: number }
  | { type: 'clearTimer'; timer: TimerName }
  /** Delete the Job and (when known) its pod, then report `deleted`. */
  | { type: 'deleteJob'; podName: string | undefined }
  | { type: 'finish'; outcome: Outcome }
  /** Stop watching; the Job goes on and another executor adopts it. */
  | { type: 'handBack' };

type WaitingView = Extract<PodView, { kind: 'waiting' }>;

/**
 * The packages' init container's log, read before the script's: 'unread' until the download is
 * seen, 'following' while it runs, 'draining' once it ended and the rest is being read. 'read' from
 * the start when there is none, or when adopting a run whose lines an earlier executor stored.
 */
export type PackagesLog = 'unread' | 'following' | 'draining' | 'read';

/** What every phase but the last knows. */
interface Watched {
  readonly settings: SupervisorSettings;
  readonly timeoutSeconds: number;
  readonly podName?: string;
  readonly job?: k8s.V1Job;
  readonly seenEvents: ReadonlySet<string>;
}

interface Waiting extends Watched {
  readonly packagesLog: PackagesLog;
  /** Why the pod waits, as last seen: the timeouts' messages say it. */
  readonly waiting?: WaitingView;
  readonly schedulingMessage?: string;
  /** The pull grace timer runs: pulling the image (or creating the container) keeps failing. */
  readonly pullGrace: boolean;
}

/** Created, not yet running: the pending timer runs. */
export interface Pending extends Waiting {
  readonly phase: 'pending';
}

/** Scheduled and pulled, downloading its packages: the download has the operation's timeout, not the pending one. */
export interface Fetching extends Waiting {
  readonly phase: 'fetching';
}

/**
 * The script runs; its log is followed, or 'queued' until the packages' lines are in; 'done' once
 * its end line was read while the pod's status is still awaited.
 */
export interface Running extends Watched {
  readonly phase: 'running';
  readonly podName: string;
  readonly packagesLog: PackagesLog;
  readonly log: 'queued' | 'following' | 'done';
  /** Something else is deleting the pod (it has a deletionTimestamp): only its status says how the script ended. */
  readonly podDeleting: boolean;
}

/** The pod was deleted before its script ended: the Job has SETTLE_MS to give its own verdict. */
export interface Vanished extends Watched {
  readonly phase: 'vanished';
  readonly started: boolean;
  readonly packagesLog: PackagesLog;
  readonly log: 'none' | 'queued' | 'following' | 'done';
}

/** How the script ended is known; the outcome waits for the rest of the logs, and for the Job's verdict when its deadline passed. */
export interface Settling extends Watched {
  readonly phase: 'settling';
  /** The outcome so far; the Job's verdict replaces it. */
  readonly outcome: Outcome;
  readonly started: boolean;
  readonly packagesLog: PackagesLog;
  readonly log: 'queued' | 'following' | 'done';
  /** The settle timer runs: the script failed past the Job's deadline, whose verdict is due. */
  readonly awaitingVerdict: boolean;
}

/** The Job is being deleted; whatever the pod does now, the outcome is Cancelled. */
export interface Cancelling extends Watched {
  readonly phase: 'cancelling';
  readonly started: boolean;
}

export interface Ended {
  readonly phase: 'ended';
}

export type SupervisorState = Pending | Fetching | Running | Vanished | Settling | Cancelling | Ended;
type Live = Exclude<SupervisorState, Ended>;

export interface Step {
  state: SupervisorState;
  actions: SupervisorAction[];
}

export function startSupervision(settings: SupervisorSettings, run: SupervisedRun): Step {
  const state: Pending = {
    phase: 'pending',
    settings,
    timeoutSeconds: run.timeoutSeconds,
    seenEvents: new Set(),
    packagesLog: run.readFetchLog ? 'unread' : 'read',
    pullGrace: false,
  };
  return { state, actions: [{ type: 'startTimer', timer: 'pending', ms: settings.podPendingTimeoutSeconds * 1000 }] };
}

export function supervise(state: SupervisorState, event: SupervisorEvent, now: number): Step {
  if (state.phase === 'ended') return { state, actions: [] };
  const actions: SupervisorAction[] = [];
  return { state: handle(state, event, { now, actions }), actions };
}

/** One step's clock and the actions it asks for. */
interface Out {
  readonly now: number;
  readonly actions: SupervisorAction[];
}

function handle(state: Live, event: SupervisorEvent, out: Out): SupervisorState {
  switch (event.type) {
    case 'pod': {
      const podName = event.pod.metadata?.name;
      if (!podName) return state;
      const seen = { ...state, podName };
      const next = fetchEnded(event.pod) ? packagesEnded(seen, 'ended', out) : seen;
      return onPod(next, event.pod, out);
    }
    case 'podDeleted':
      // Nothing more will be written to the packages' log; a log not read yet never will be.
      return onPodDeleted(packagesEnded(state, 'gone', out), event.pod, out);
    case 'job':
      return onJob({ ...state, job: event.job }, out);
    case 'jobDeleted': {
      const next = packagesEnded(state, 'gone', out);
      return isBeforeEnd(next) ? toSettling(next, outcomes.podDeleted('Job'), out) : next;
    }
    case 'event':
      return onEvent(state, event.event, out);
    case 'timer':
      return onTimer(state, event.timer, out);
    case 'logsDone':
      return state.phase === 'settling' ? maybeFinish({ ...state, log: 'done' }, out) : state;
    case 'scriptExit':
      return onScriptExit(state, event.exit, out);
    case 'fetchLogRead':
      return onPackagesRead(state, out);
    case 'abort':
      return onAbort(state, event.reason, out);
    case 'deleted':
      return state.phase === 'cancelling' ? finish(outcomes.cancelled(state.started ? 'running' : 'before start'), out) : state;
  }
}

const isWaiting = (state: Live): state is Pending | Fetching => state.phase === 'pending' || state.phase === 'fetching';
/** A phase in which the script's end is still to come. */
const isBeforeEnd = (state: Live): state is Pending | Fetching | Running | Vanished =>
  isWaiting(state) || state.phase === 'running' || state.phase === 'vanished';

function finish(outcome: Outcome, out: Out): Ended {
  out.actions.push({ type: 'finish', outcome });
  return { phase: 'ended' };
}

/**
 * The packages' init container has ended: a log being followed is read to its end; one not read
 * yet is read now, unless it is 'gone' with its pod or Job.
 */
function packagesEnded<S extends Live>(state: S, how: 'ended' | 'gone', out: Out): S {
  if (!('packagesLog' in state)) return state;
  if (state.packagesLog === 'following') {
    out.actions.push({ type: 'fetchEnded' });
    return { ...state, packagesLog: 'draining' };
  }
  if (state.packagesLog !== 'unread') return state;
  if (how === 'gone' || !state.podName) return { ...state, packagesLog: 'read' };
  out.actions.push({ type: 'readFetchLog', podName: state.podName }, { type: 'fetchEnded' });
  return { ...state, packagesLog: 'draining' };
}

function onPod(state: Live, pod: k8s.V1Pod, out: Out): SupervisorState {
  if (!isBeforeEnd(state) || state.phase === 'vanished') return state;
  const view = viewPod(pod);
  const podName = pod.metadata?.name ?? state.podName ?? '';
  if (state.phase === 'running') {
    if (view.kind === 'finished') return toSettling(state, view.outcome, out);
    return pod.metadata?.deletionTimestamp && !state.podDeleting ? { ...state, podDeleting: true } : state;
  }
  switch (view.kind) {
    case 'running':
      return start(state, podName, out);
    case 'finished':
      return toSettling(start(state, podName, out), view.outcome, out);
    case 'failedBeforeStart':
      return toSettling(state, view.outcome, out);
    case 'waiting':
      return onWaiting(state, view, podName, out);
  }
}

/** Timers a waiting phase runs stop when it is left. */
function leaveWaiting(state: Pending | Fetching, out: Out): void {
  if (state.phase === 'pending') out.actions.push({ type: 'clearTimer', timer: 'pending' });
  if (state.pullGrace) out.actions.push({ type: 'clearTimer', timer: 'pullGrace' });
}

/** The script runs: say so, and follow its log once the packages' lines are in. */
function start(state: Pending | Fetching, podName: string, out: Out): Running {
  leaveWaiting(state, out);
  out.actions.push({ type: 'started' });
  const { settings, timeoutSeconds, job, seenEvents, packagesLog } = state;
  const queued = packagesLog === 'following' || packagesLog === 'draining';
  if (!queued) out.actions.push({ type: 'followLogs', podName });
  return { phase: 'running', settings, timeoutSeconds, podName, job, seenEvents, packagesLog, log: queued ? 'queued' : 'following', podDeleting: false };
}

function onWaiting(state: Pending | Fetching, view: WaitingView, podName: string, out: Out): SupervisorState {
  let next: Pending | Fetching = { ...state, waiting: view };
  if (view.fetching && next.phase === 'pending') {
    out.actions.push({ type: 'clearTimer', timer: 'pending' }, { type: 'system', text: `Fetching packages (init container ${FETCH_CONTAINER})` });
    next = { ...next, phase: 'fetching' };
    if (next.packagesLog === 'unread') {
      out.actions.push({ type: 'readFetchLog', podName });
      next = { ...next, packagesLog: 'following' };
    }
  }
  if (view.pull === 'invalid') return finish(outcomes.imageInvalid(view.message ?? view.reason ?? ''), out);
  const failing = view.pull === 'failing' || view.configError === true;
  if (failing && !next.pullGrace) out.actions.push({ type: 'startTimer', timer: 'pullGrace', ms: next.settings.imagePullGraceSeconds * 1000 });
  if (!failing && next.pullGrace) out.actions.push({ type: 'clearTimer', timer: 'pullGrace' });
  return { ...next, pullGrace: failing };
}

function onPodDeleted(state: Live, pod: k8s.V1Pod, out: Out): SupervisorState {
  if (!isBeforeEnd(state) || state.phase === 'vanished') return state;
  const view = viewPod(pod);
  if (view.kind === 'finished') return onPod(state, pod, out);
  if (isWaiting(state)) leaveWaiting(state, out);
  out.actions.push({ type: 'startTimer', timer: 'settle', ms: SETTLE_MS });
  const { settings, timeoutSeconds, podName, job, seenEvents, packagesLog } = state;
  const running = state.phase === 'running';
  return { phase: 'vanished', settings, timeoutSeconds, podName, job, seenEvents, packagesLog, started: running, log: running ? state.log : 'none' };
}

/**
 * How the script ended is known: the pod's own end, or one imposed from outside (the Job's verdict,
 * the Job or the pod deleted). The script's follower is told, and reads what is left.
 */
function toSettling(state: Pending | Fetching | Running | Vanished | Settling, outcome: Outcome, out: Out): SupervisorState {
  if (state.phase === 'settling') return maybeFinish({ ...state, outcome }, out);
  const { settings, timeoutSeconds, podName, job, seenEvents, packagesLog } = state;
  const base = { phase: 'settling', settings, timeoutSeconds, podName, job, seenEvents, packagesLog, outcome, awaitingVerdict: false } as const;
  if (isWaiting(state)) {
    leaveWaiting(state, out);
    return maybeFinish({ ...base, started: false, log: 'done' }, out);
  }
  if (state.phase === 'running') {
    if (state.log === 'following') out.actions.push({ type: 'scriptEnded' });
    return maybeFinish({ ...base, started: true, log: state.log }, out);
  }
  out.actions.push({ type: 'clearTimer', timer: 'settle' });
  if (state.log === 'following') out.actions.push({ type: 'scriptEnded' });
  return maybeFinish({ ...base, started: state.started, log: state.log === 'following' ? 'following' : 'done' }, out);
}

/**
 * The launcher's end line: the script's log is complete. Its exit code is the outcome unless only
 * the pod's status can tell (an OOM kill, or a count unknown; the pod being deleted by someone else).
 */
function onScriptExit(state: Live, exit: ScriptExit, out: Out): SupervisorState {
  const reading = 'log' in state && state.log === 'following';
  if (!reading) return state;
  if (state.phase === 'settling') return maybeFinish({ ...state, log: 'done' }, out);
  if (state.phase === 'vanished') return { ...state, log: 'done' };
  if (state.phase !== 'running') return state;
  const done: Running = { ...state, log: 'done' };
  if (exit.oomKills !== 0 || state.podDeleting) return done;
  return toSettling(done, exitOutcome(exit.exitCode), out);
}

function onJob(state: Live, out: Out): SupervisorState {
  const verdict = state.job && jobFailure(state.job, state.timeoutSeconds);
  if (!verdict || state.phase === 'cancelling') return state;
  return toSettling(state, verdict, out);
}

function onEvent(state: Live, event: k8s.CoreV1Event, out: Out): SupervisorState {
  const key = `${event.metadata?.uid}/${event.count ?? 1}`;
  if (state.seenEvents.has(key) || !event.reason || !EVENT_REASONS.has(event.reason)) return state;
  out.actions.push({ type: 'system', text: `${event.reason}: ${event.message ?? ''}`.trim() });
  const next = { ...state, seenEvents: new Set([...state.seenEvents, key]) };
  if (!isWaiting(next)) return next;
  // A pod refused for good (FailedCreate by policy) would otherwise wait out the pending timeout.
  const refusal = podRefusal(event);
  if (refusal) return finish(outcomes.podRefused(refusal), out);
  return event.reason === 'FailedScheduling' ? { ...next, schedulingMessage: event.message } : next;
}

function onTimer(state: Live, timer: TimerName, out: Out): SupervisorState {
  if (timer === 'pending' && state.phase === 'pending') {
    const seconds = state.settings.podPendingTimeoutSeconds;
    const { waiting } = state;
    if (waiting?.pull) return finish(outcomes.imagePullFailed(seconds, `${waiting.reason}: ${waiting.message ?? ''}`.trim(), 'pending'), out);
    return finish(outcomes.unschedulable(seconds, state.schedulingMessage ?? waiting?.message ?? waiting?.reason ?? 'no reason reported'), out);
  }
  if (timer === 'pullGrace' && isWaiting(state) && state.pullGrace) {
    const { waiting } = state;
    const detail = `${waiting?.reason}: ${waiting?.message ?? ''}`.trim();
    return finish(waiting?.pull ? outcomes.imagePullFailed(state.settings.imagePullGraceSeconds, detail, 'grace') : outcomes.containerNotCreated(detail), out);
  }
  if (timer !== 'settle') return state;
  const verdict = state.job && jobFailure(state.job, state.timeoutSeconds);
  if (state.phase === 'vanished') {
    // No verdict came for a pod that went: what its log stream has not given by now, it never will.
    const next = toSettling(state, verdict ?? outcomes.podDeleted('pod'), out);
    if (state.log === 'following') out.actions.push({ type: 'stopLogs' });
    return next;
  }
  if (state.phase === 'settling' && state.awaitingVerdict) return finish(verdict ?? state.outcome, out);
  return state;
}

/** The packages' lines are in: the script's log, queued behind them, is followed now. */
function onPackagesRead(state: Live, out: Out): SupervisorState {
  if (!('packagesLog' in state)) return state;
  const next = { ...state, packagesLog: 'read' as const };
  if ('log' in next && next.log === 'queued' && next.podName) {
    out.actions.push({ type: 'followLogs', podName: next.podName });
    if (next.phase === 'settling') out.actions.push({ type: 'scriptEnded' });
    return next.phase === 'settling' ? maybeFinish({ ...next, log: 'following' }, out) : { ...next, log: 'following' };
  }
  return next.phase === 'settling' ? maybeFinish(next, out) : next;
}

function onAbort(state: Live, reason: 'cancel' | 'shutdown', out: Out): SupervisorState {
  if (reason === 'shutdown') {
    out.actions.push({ type: 'handBack' });
    return { phase: 'ended' };
  }
  if (state.phase === 'cancelling') return state;
  out.actions.push({ type: 'deleteJob', podName: state.podName });
  const { settings, timeoutSeconds, podName, job, seenEvents } = state;
  const started = state.phase === 'running' || ((state.phase === 'vanished' || state.phase === 'settling') && state.started);
  return { phase: 'cancelling', settings, timeoutSeconds, podName, job, seenEvents, started };
}

/** Whether the Job's active deadline has passed (within a second), so that its verdict is due. */
function deadlinePassed(job: k8s.V1Job | undefined, timeoutSeconds: number, now: number): boolean {
  const start = job?.status?.startTime ? new Date(job.status.startTime).getTime() : undefined;
  return start !== undefined && start + timeoutSeconds * 1000 <= now + 1000;
}

/** The outcome once both the script's end and every log line are in; the Job's own verdict wins. */
function maybeFinish(state: Settling, out: Out): SupervisorState {
  const packagesPending = state.packagesLog === 'following' || state.packagesLog === 'draining';
  if (state.log !== 'done' || packagesPending) return state;
  const verdict = state.job && jobFailure(state.job, state.timeoutSeconds);
  if (verdict) return finish(verdict, out);
  if (state.awaitingVerdict) return state;
  if (!state.outcome.failure || !deadlinePassed(state.job, state.timeoutSeconds, out.now)) return finish(state.outcome, out);
  out.actions.push({ type: 'startTimer', timer: 'settle', ms: SETTLE_MS });
  return { ...state, awaitingVerdict: true };
}
