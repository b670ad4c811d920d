/**
 * How one script Job goes from created to an outcome, as a pure reducer: `supervise(state, event,
 * now)` gives the next state and the actions to perform. The driver (job-supervisor.ts) feeds it
 * what the shared watch sees, the end of the log, its timers and a cancel, and performs the actions.
 *
 * What it decides: say why the pod waits (scheduling and pull events become system lines); give up
 * on a pod pending too long or an image that keeps failing to pull; follow the script's log once it
 * runs; tell script failures from infrastructure ones; and finish only once both the pod's end and
 * the whole log are in — the Job's own verdict (its deadline) winning over the pod's.
 */
import type * as k8s from '@kubernetes/client-node';
import { outcomes, type Outcome } from '../../core/contract/outcomes.js';
import { podRefusal } from './admission.js';
import { FETCH_CONTAINER } from './names.js';
import { fetchEnded, jobFailure, viewPod, type PodView } from './pod-state.js';

export interface SupervisorSettings {
  podPendingTimeoutSeconds: number;
  imagePullGraceSeconds: number;
}

/** How long to wait for the Job to say its deadline passed after its pod went. */
export const SETTLE_MS = 3000;

/** Lines are wanted for these event reasons; the rest (Created, Started, …) say nothing new. */
const EVENT_REASONS = new Set(['Scheduled', 'FailedScheduling', 'Pulling', 'Pulled', 'Failed', 'BackOff', 'ErrImageNeverPull', 'InspectFailed', 'FailedMount', 'Evicted', 'Killing', 'OOMKilling', 'DeadlineExceeded', 'Preempting', 'FailedCreate']);

export type TimerName = 'pending' | 'pullGrace' | 'settle';

export type SupervisorEvent =
  | { type: 'pod'; pod: k8s.V1Pod }
  | { type: 'podDeleted'; pod: k8s.V1Pod }
  | { type: 'job'; job: k8s.V1Job }
  | { type: 'jobDeleted' }
  | { type: 'event'; event: k8s.CoreV1Event }
  | { type: 'timer'; timer: TimerName }
  /** The log follower read the whole log of a script that ended. */
  | { type: 'logsDone' }
  /** The packages' init container's log was read (or could not be). */
  | { type: 'fetchLogRead' }
  | { type: 'abort'; reason: 'cancel' | 'shutdown' }
  /** The Job and pod a cancel deletes are deleted (or could not be). */
  | { type: 'deleted' };

export type SupervisorAction =
  | { type: 'system'; text: string }
  /** The script started: the operation shows as running. */
  | { type: 'started' }
  | { type: 'followLogs' }
  /**
   * Follow the log of the packages' init container as system lines (progress as it comes) until
   * the state says it ended and every line is in, then report fetchLogRead.
   */
  | { type: 'readFetchLog' }
  /** The script ended: the log follower reads what is left and stops. */
  | { type: 'scriptEnded' }
  /** Stop the log stream now; the follower then reads once more and reports logsDone. */
  | { type: 'stopLogs' }
  | { type: 'startTimer'; timer: TimerName; ms: number }
  | { type: 'clearTimer'; timer: TimerName }
  /** Delete the Job and (when known) its pod, then report `deleted`. */
  | { type: 'deleteJob'; podName: string | undefined }
  | { type: 'finish'; outcome: Outcome }
  /** Stop watching; the Job goes on and another executor adopts it. */
  | { type: 'handBack' };

type Waiting = Extract<PodView, { kind: 'waiting' }>;

export interface SupervisorState {
  readonly settings: SupervisorSettings;
  readonly phase: 'watching' | 'cancelling' | 'done';
  readonly started: boolean;
  readonly podName?: string;
  readonly job?: k8s.V1Job;
  readonly waiting?: Waiting;
  readonly schedulingMessage?: string;
  /** How the script ended, once known; the outcome waits for the rest of the log. */
  readonly finished?: Outcome;
  readonly logs: 'idle' | 'following' | 'done';
  /**
   * The log of the packages' init container, followed from when it runs. 'read' from the start
   * when there is none to read, or when adopting a run whose lines an earlier executor took.
   */
  readonly fetchLog: 'unread' | 'reading' | 'read';
  /** The packages' init container was seen running. */
  readonly fetching: boolean;
  /** The packages' init container has ended: its log is complete. */
  readonly fetchEnded: boolean;
  readonly pullGraceArmed: boolean;
  /** Why the settle timer runs: for the Job's deadline verdict, or after the pod was deleted. */
  readonly settle?: 'deadline' | 'podDeleted';
  readonly seenEvents: ReadonlySet<string>;
}

export interface Step {
  state: SupervisorState;
  actions: SupervisorAction[];
}

export function startSupervision(settings: SupervisorSettings, options: { readFetchLog: boolean } = { readFetchLog: false }): Step {
  const state: SupervisorState = {
    settings,
    phase: 'watching',
    started: false,
    logs: 'idle',
    fetchLog: options.readFetchLog ? 'unread' : 'read',
    fetching: false,
    fetchEnded: false,
    pullGraceArmed: false,
    seenEvents: new Set(),
  };
  return { state, actions: [{ type: 'startTimer', timer: 'pending', ms: settings.podPendingTimeoutSeconds * 1000 }] };
}

/** Whether the Job's active deadline has passed (within a second), so that its verdict is due. */
function deadlinePassed(job: k8s.V1Job | undefined, now: number): boolean {
  const start = job?.status?.startTime ? new Date(job.status.startTime).getTime() : undefined;
  const deadline = job?.spec?.activeDeadlineSeconds;
  return start !== undefined && deadline !== undefined && start + deadline * 1000 <= now + 1000;
}

export function supervise(state: SupervisorState, event: SupervisorEvent, now: number): Step {
  if (state.phase === 'done') return { state, actions: [] };
  const step = new StepBuilder(state, now);
  step.handle(event);
  return { state: step.state, actions: step.actions };
}

/** One step's working copy: the state so far and the actions it asks for. */
class StepBuilder {
  readonly actions: SupervisorAction[] = [];

  constructor(
    public state: SupervisorState,
    private readonly now: number,
  ) {}

  private get cancelling(): boolean {
    return this.state.phase === 'cancelling';
  }

  private set(changes: Partial<SupervisorState>): void {
    this.state = { ...this.state, ...changes };
  }

  private finish(outcome: Outcome): void {
    this.set({ phase: 'done' });
    this.actions.push({ type: 'finish', outcome });
  }

  /** Records how the script ended; `replace`: a later verdict (the Job's) overrides the pod's. */
  private scriptEnded(outcome: Outcome, replace: boolean): void {
    if (this.state.finished && !replace) return;
    const first = !this.state.finished;
    this.set({ finished: outcome });
    if (first) this.actions.push({ type: 'scriptEnded' });
  }

  handle(event: SupervisorEvent): void {
    switch (event.type) {
      case 'pod':
        this.set({ podName: event.pod.metadata?.name });
        if (!this.state.fetchEnded && fetchEnded(event.pod)) {
          this.set({ fetchEnded: true });
          this.readFetchLog();
        }
        return this.onView(viewPod(event.pod));
      case 'podDeleted':
        // Nothing more will be written to the packages' log.
        this.set({ fetchEnded: true });
        return this.onPodDeleted(event.pod);
      case 'job':
        return this.onJob(event.job);
      case 'jobDeleted':
        this.set({ fetchEnded: true });
        if (this.cancelling || this.state.finished) return;
        this.scriptEnded(outcomes.podDeleted('Job'), true);
        this.logsNotFollowedAreDone();
        return this.maybeFinish();
      case 'event':
        return this.onEvent(event.event);
      case 'timer':
        return this.onTimer(event.timer);
      case 'logsDone':
        this.set({ logs: 'done' });
        return this.maybeFinish();
      case 'fetchLogRead':
        this.set({ fetchLog: 'read' });
        return this.maybeFinish();
      case 'abort':
        if (event.reason === 'shutdown') {
          this.set({ phase: 'done' });
          this.actions.push({ type: 'handBack' });
          return;
        }
        if (this.cancelling) return;
        this.set({ phase: 'cancelling' });
        this.actions.push({ type: 'deleteJob', podName: this.state.podName });
        return;
      case 'deleted':
        return this.finish(outcomes.cancelled(this.state.started ? 'running' : 'before start'));
    }
  }

  private readFetchLog(): void {
    if (this.state.fetchLog !== 'unread') return;
    this.set({ fetchLog: 'reading' });
    this.actions.push({ type: 'readFetchLog' });
  }

  private reportStarted(): void {
    if (this.state.started) return;
    this.set({ started: true });
    if (this.state.pullGraceArmed) this.clearPullGrace();
    this.actions.push({ type: 'started' });
  }

  private startFollowing(): void {
    if (this.state.logs !== 'idle') return;
    this.set({ logs: 'following' });
    this.actions.push({ type: 'followLogs' });
  }

  /** With no log being followed there is nothing left to read. */
  private logsNotFollowedAreDone(): void {
    if (this.state.logs === 'idle') this.set({ logs: 'done' });
  }

  private clearPullGrace(): void {
    this.set({ pullGraceArmed: false });
    this.actions.push({ type: 'clearTimer', timer: 'pullGrace' });
  }

  private onView(view: PodView): void {
    if (this.cancelling) return;
    if (view.kind === 'running') {
      this.reportStarted();
      return this.startFollowing();
    }
    if (view.kind === 'finished') {
      this.reportStarted();
      this.startFollowing();
      return this.scriptEnded(view.outcome, false);
    }
    if (view.kind === 'failedBeforeStart') {
      this.scriptEnded(view.outcome, false);
      this.logsNotFollowedAreDone();
      return this.maybeFinish();
    }
    if (this.state.started) return;
    this.set({ waiting: view });
    if (view.fetching && !this.state.fetching) {
      // Scheduled and pulled: from now on the download has the operation's timeout, not the pending one.
      this.set({ fetching: true });
      this.actions.push({ type: 'clearTimer', timer: 'pending' }, { type: 'system', text: `Fetching packages (init container ${FETCH_CONTAINER})` });
      this.readFetchLog();
    }
    if (view.pull === 'invalid') return this.finish(outcomes.imageInvalid(view.message ?? view.reason ?? ''));
    if (view.pull === 'failing' || view.configError) {
      if (!this.state.pullGraceArmed) {
        this.set({ pullGraceArmed: true });
        this.actions.push({ type: 'startTimer', timer: 'pullGrace', ms: this.state.settings.imagePullGraceSeconds * 1000 });
      }
    } else if (this.state.pullGraceArmed) {
      this.clearPullGrace();
    }
  }

  private onPodDeleted(pod: k8s.V1Pod): void {
    if (this.cancelling || this.state.finished) return;
    const view = viewPod(pod);
    if (view.kind === 'finished') return this.onView(view);
    this.armSettle('podDeleted');
  }

  private onJob(job: k8s.V1Job): void {
    this.set({ job });
    const verdict = jobFailure(job);
    if (!verdict || this.cancelling) return;
    this.scriptEnded(verdict, true);
    this.logsNotFollowedAreDone();
    this.maybeFinish();
  }

  private onEvent(event: k8s.CoreV1Event): void {
    const key = `${event.metadata?.uid}/${event.count ?? 1}`;
    if (this.state.seenEvents.has(key) || !event.reason || !EVENT_REASONS.has(event.reason)) return;
    this.set({ seenEvents: new Set([...this.state.seenEvents, key]) });
    if (event.reason === 'FailedScheduling') this.set({ schedulingMessage: event.message });
    this.actions.push({ type: 'system', text: `${event.reason}: ${event.message ?? ''}`.trim() });
    // A pod refused for good (FailedCreate by policy) would otherwise wait out the pending timeout.
    const refusal = this.state.started || this.cancelling ? undefined : podRefusal(event);
    if (refusal) this.finish(outcomes.podRefused(refusal));
  }

  private armSettle(why: 'deadline' | 'podDeleted'): void {
    if (this.state.settle) return;
    this.set({ settle: why });
    this.actions.push({ type: 'startTimer', timer: 'settle', ms: SETTLE_MS });
  }

  private onTimer(timer: TimerName): void {
    // Once cancelling, the cancel decides the outcome.
    if (this.cancelling) return;
    const { settings, waiting, job } = this.state;
    if (timer === 'pending') {
      if (this.state.started) return;
      const seconds = settings.podPendingTimeoutSeconds;
      if (waiting?.pull) return this.finish(outcomes.imagePullFailed(seconds, `${waiting.reason}: ${waiting.message ?? ''}`.trim(), 'pending'));
      return this.finish(outcomes.unschedulable(seconds, this.state.schedulingMessage ?? waiting?.message ?? waiting?.reason ?? 'no reason reported'));
    }
    if (timer === 'pullGrace') {
      this.set({ pullGraceArmed: false });
      const detail = `${waiting?.reason}: ${waiting?.message ?? ''}`.trim();
      return this.finish(waiting?.pull ? outcomes.imagePullFailed(settings.imagePullGraceSeconds, detail, 'grace') : outcomes.containerNotCreated(detail));
    }
    const verdict = job ? jobFailure(job) : undefined;
    if (this.state.settle === 'deadline') return this.finish(verdict ?? this.state.finished!);
    this.scriptEnded(verdict ?? outcomes.podDeleted('pod'), true);
    if (this.state.logs === 'following') this.actions.push({ type: 'stopLogs' });
    this.logsNotFollowedAreDone();
    this.maybeFinish();
  }

  /** The outcome once both the script's end and the whole log are in; the Job's own verdict wins. */
  private maybeFinish(): void {
    const { finished, logs, job } = this.state;
    // Once cancelling, the pod's end is the cancel's doing, not the script's outcome.
    if (!finished || logs !== 'done' || this.state.fetchLog === 'reading' || this.cancelling) return;
    const verdict = job ? jobFailure(job) : undefined;
    if (verdict) return this.finish(verdict);
    if (finished.failure && deadlinePassed(job, this.now)) return this.armSettle('deadline');
    this.finish(finished);
  }
}
