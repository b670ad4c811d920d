import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { SCRIPT_CONTAINER } from '../../executor/kubernetes/names.js';
import { SETTLE_MS, startSupervision, supervise, type SupervisorAction, type SupervisorEvent } from '../../executor/kubernetes/supervision.js';
import { outcomes } from '../../core/contract/outcomes.js';

const settings = { podPendingTimeoutSeconds: 60, imagePullGraceSeconds: 20 };
const run = { timeoutSeconds: 5, readFetchLog: false };
const NOW = Date.parse('2026-01-01T00:10:00Z');

const pod = (status: V1Pod['status'], name = 'job-a-xyz'): V1Pod => ({ metadata: { name }, status });
const inContainer = (state: object): V1Pod['status'] => ({
  containerStatuses: [{ name: SCRIPT_CONTAINER, image: 'x', imageID: '', ready: false, restartCount: 0, state }],
});
const waiting = (reason: string, message?: string): SupervisorEvent => ({
  type: 'pod',
  pod: pod({ phase: 'Pending', ...inContainer({ waiting: { reason, message } }) }),
});
const running: SupervisorEvent = { type: 'pod', pod: pod({ phase: 'Running', ...inContainer({ running: {} }) }) };
const exited = (exitCode: number, reason?: string): SupervisorEvent => ({
  type: 'pod',
  pod: pod({ phase: exitCode === 0 ? 'Succeeded' : 'Failed', ...inContainer({ terminated: { exitCode, reason } }) }),
});
const unscheduled: SupervisorEvent = {
  type: 'pod',
  pod: pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] }),
};
const event = (reason: string, message: string, uid = reason, count = 1): SupervisorEvent => ({
  type: 'event',
  event: { metadata: { uid }, reason, message, count, involvedObject: {} } as CoreV1Event,
});
/** A Job started 10 s before NOW with a 5 s deadline, with or without the controller's verdict yet. */
const overdueJob = (verdict: boolean): SupervisorEvent => ({
  type: 'job',
  job: {
    spec: { activeDeadlineSeconds: 5, template: {} },
    status: { startTime: new Date(NOW - 10_000), ...(verdict ? { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] } : {}) },
  } as V1Job,
});
const timer = (name: 'pending' | 'pullGrace' | 'settle'): SupervisorEvent => ({ type: 'timer', timer: name });
const logsDone: SupervisorEvent = { type: 'logsDone' };

/** Feeds the events in order from a fresh supervision; every action asked for, in order. */
function feed(events: SupervisorEvent[]): SupervisorAction[] {
  let { state, actions } = startSupervision(settings, run);
  const all = [...actions];
  for (const input of events) {
    ({ state, actions } = supervise(state, input, NOW));
    all.push(...actions);
  }
  return all;
}
const finishes = (actions: SupervisorAction[]): SupervisorAction[] => actions.filter((a) => a.type === 'finish' || a.type === 'handBack');

describe('supervising a script Job', () => {
  it('starts its pending timer at once', () => {
    expect(startSupervision(settings, run).actions).toEqual([{ type: 'startTimer', timer: 'pending', ms: 60_000 }]);
  });

  it.each<[string, SupervisorEvent[], SupervisorAction | undefined]>([
    ['a script that exits 0, once its log is read, succeeds', [running, exited(0), logsDone], { type: 'finish', outcome: outcomes.succeeded() }],
    ['a script that exits 3 fails with ScriptFailed 3', [running, exited(3), logsDone], { type: 'finish', outcome: outcomes.scriptFailed(3) }],
    ['a script that ended is not finished before its log is read', [running, exited(0)], undefined],
    ['a script killed for memory fails with OOMKilled', [running, exited(137, 'OOMKilled'), logsDone], { type: 'finish', outcome: outcomes.oomKilled() }],
    [
      'an evicted pod fails with Evicted',
      [running, { type: 'pod', pod: pod({ phase: 'Failed', reason: 'Evicted', message: 'low on memory' }) }, logsDone],
      { type: 'finish', outcome: outcomes.evicted('low on memory') },
    ],
    [
      'a pod still unschedulable at its pending timeout fails with Unschedulable and the scheduler’s reason',
      [unscheduled, event('FailedScheduling', '0/1 nodes: Insufficient cpu'), timer('pending')],
      { type: 'finish', outcome: outcomes.unschedulable(60, '0/1 nodes: Insufficient cpu') },
    ],
    [
      "a pod refused by Pod Security fails at once, with the API server's reason",
      [
        {
          type: 'event',
          event: {
            metadata: { uid: 'fc' },
            reason: 'FailedCreate',
            message: 'Error creating: pods "kw-x" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false',
            count: 1,
            involvedObject: { kind: 'Job' },
          } as CoreV1Event,
        },
      ],
      {
        type: 'finish',
        outcome: outcomes.podRefused('Error creating: pods "kw-x" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false'),
      },
    ],
    [
      'a pod refused by a quota waits for the pending timeout',
      [event('FailedCreate', 'Error creating: pods "kw-x" is forbidden: exceeded quota: compute')],
      undefined,
    ],
    ['a pod pending with no reason at all says so', [timer('pending')], { type: 'finish', outcome: outcomes.unschedulable(60, 'no reason reported') }],
    [
      'an image still not pulled at the pending timeout fails with ImagePullFailed',
      [waiting('ErrImagePull', 'not found'), timer('pending')],
      { type: 'finish', outcome: outcomes.imagePullFailed(60, 'ErrImagePull: not found', 'pending') },
    ],
    [
      'an image that keeps failing for the pull grace fails with ImagePullFailed',
      [waiting('ImagePullBackOff', 'back-off'), timer('pullGrace')],
      { type: 'finish', outcome: outcomes.imagePullFailed(20, 'ImagePullBackOff: back-off', 'grace') },
    ],
    ['an invalid image name fails at once', [waiting('InvalidImageName', 'bad ref')], { type: 'finish', outcome: outcomes.imageInvalid('bad ref') }],
    [
      'a container that cannot be created fails with RuntimeError after the grace',
      [waiting('CreateContainerConfigError', 'secret missing'), timer('pullGrace')],
      { type: 'finish', outcome: outcomes.containerNotCreated('CreateContainerConfigError: secret missing') },
    ],
    ['a pending timeout after the script started changes nothing', [running, timer('pending')], undefined],
    [
      'the Job’s deadline verdict ends a running script once its log is read',
      [running, overdueJob(true), logsDone],
      { type: 'finish', outcome: outcomes.deadlineExceeded(5) },
    ],
    [
      'the Job’s deadline verdict ends a script whose pod was never seen, at once',
      [overdueJob(true)],
      { type: 'finish', outcome: outcomes.deadlineExceeded(5) },
    ],
    [
      'the Job’s verdict wins over the exit code of the pod it killed',
      [running, exited(137), overdueJob(false), logsDone, overdueJob(true)],
      { type: 'finish', outcome: outcomes.deadlineExceeded(5) },
    ],
    [
      'a killed pod past the deadline keeps its exit code when no verdict comes in time',
      [running, exited(137), overdueJob(false), logsDone, timer('settle')],
      { type: 'finish', outcome: outcomes.scriptFailed(137) },
    ],
    [
      'a pod deleted before it ran fails with PodDeleted after the settle time',
      [unscheduled, { type: 'podDeleted', pod: pod({ phase: 'Pending' }) }, timer('settle')],
      { type: 'finish', outcome: outcomes.podDeleted('pod') },
    ],
    [
      'a running pod deleted fails with PodDeleted once its log is read',
      [running, { type: 'podDeleted', pod: pod({ phase: 'Running', ...inContainer({ running: {} }) }) }, timer('settle'), logsDone],
      { type: 'finish', outcome: outcomes.podDeleted('pod') },
    ],
    [
      'a pod deleted after its script ended keeps the script’s outcome',
      [running, { type: 'podDeleted', pod: pod({ phase: 'Succeeded', ...inContainer({ terminated: { exitCode: 0 } }) }) }, logsDone],
      { type: 'finish', outcome: outcomes.succeeded() },
    ],
    [
      'a Job deleted before the script started fails with PodDeleted',
      [unscheduled, { type: 'jobDeleted' }],
      { type: 'finish', outcome: outcomes.podDeleted('Job') },
    ],
    [
      'a cancel before the script started ends Cancelled once the Job is deleted',
      [unscheduled, { type: 'abort', reason: 'cancel' }, { type: 'deleted' }],
      { type: 'finish', outcome: outcomes.cancelled('before start') },
    ],
    [
      'a cancel while running ends Cancelled, whatever the pod does meanwhile',
      [running, { type: 'abort', reason: 'cancel' }, exited(137), { type: 'jobDeleted' }, timer('pending'), { type: 'deleted' }],
      { type: 'finish', outcome: outcomes.cancelled('running') },
    ],
    ['a shutdown hands the run back', [running, { type: 'abort', reason: 'shutdown' }], { type: 'handBack' }],
  ])('%s', (_case, events, expected) => {
    const ended = finishes(feed(events));
    expect(ended).toEqual(expected ? [expected] : []);
  });

  it('settles only once: nothing happens after the outcome', () => {
    const actions = feed([running, exited(0), logsDone, exited(3), { type: 'abort', reason: 'cancel' }, event('Killing', 'stopping')]);
    expect(finishes(actions)).toEqual([{ type: 'finish', outcome: outcomes.succeeded() }]);
    expect(actions.at(-1)).toEqual({ type: 'finish', outcome: outcomes.succeeded() });
  });

  it('says the script started once, and follows its log once', () => {
    const actions = feed([running, running, exited(0)]);
    expect(actions.filter((a) => a.type === 'started')).toHaveLength(1);
    expect(actions.filter((a) => a.type === 'followLogs')).toHaveLength(1);
    expect(actions.filter((a) => a.type === 'scriptEnded')).toHaveLength(1);
  });

  it('arms the pull grace once while the pull fails, and disarms it when the script starts', () => {
    const actions = feed([waiting('ErrImagePull'), waiting('ImagePullBackOff'), running]);
    expect(actions.filter((a) => a.type === 'startTimer' && a.timer === 'pullGrace')).toEqual([{ type: 'startTimer', timer: 'pullGrace', ms: 20_000 }]);
    expect(actions).toContainEqual({ type: 'clearTimer', timer: 'pullGrace' });
  });

  it('waits the settle time for the Job’s verdict when a failed script is past its deadline', () => {
    const actions = feed([running, exited(137), overdueJob(false), logsDone]);
    expect(actions).toContainEqual({ type: 'startTimer', timer: 'settle', ms: SETTLE_MS });
    expect(finishes(actions)).toEqual([]);
  });

  it('stops the log stream of a pod deleted while running, so that the rest is read once', () => {
    const actions = feed([running, { type: 'podDeleted', pod: pod({ phase: 'Running', ...inContainer({ running: {} }) }) }, timer('settle')]);
    expect(actions).toContainEqual({ type: 'stopLogs' });
  });

  it('deletes the Job and its pod once on cancel', () => {
    const actions = feed([running, { type: 'abort', reason: 'cancel' }, { type: 'abort', reason: 'cancel' }]);
    expect(actions.filter((a) => a.type === 'deleteJob')).toEqual([{ type: 'deleteJob', podName: 'job-a-xyz' }]);
  });

  it('turns each wanted cluster event into one system line', () => {
    const actions = feed([
      event('Scheduled', 'assigned to node-1'),
      event('Scheduled', 'assigned to node-1'),
      event('Created', 'created container'),
      event('Pulling', 'pulling "tools:1"', 'p', 1),
      event('Pulling', 'pulling "tools:1"', 'p', 2),
    ]);
    expect(actions.filter((a) => a.type === 'system')).toEqual([
      { type: 'system', text: 'Scheduled: assigned to node-1' },
      { type: 'system', text: 'Pulling: pulling "tools:1"' },
      { type: 'system', text: 'Pulling: pulling "tools:1"' },
    ]);
  });
});
