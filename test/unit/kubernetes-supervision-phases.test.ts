/**
 * The supervision's phases, one transition a row: from the phase the events before it reach, the
 * last event gives the next phase and exactly these actions.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  SETTLE_MS,
  startSupervision,
  supervise,
  type SupervisorAction,
  type SupervisorEvent,
  type SupervisorState,
} from '../../executor/kubernetes/supervision.js';
import { outcomes } from '../../core/contract/outcomes.js';
import { pod, POD } from './support/script-pod.js';

const settings = { podPendingTimeoutSeconds: 60, imagePullGraceSeconds: 20 };
const NOW = Date.parse('2026-01-01T00:10:00Z');
const seen = (p: V1Pod): SupervisorEvent => ({ type: 'pod', pod: p });
const waiting = (reason: string): SupervisorEvent => seen(pod('Pending', { waiting: { reason } }));
const running = seen(pod('Running', { running: {} }));
const exited = (exitCode: number): SupervisorEvent => seen(pod(exitCode === 0 ? 'Succeeded' : 'Failed', { terminated: { exitCode } }));
const fetching = seen(pod('Pending', { waiting: { reason: 'PodInitializing' } }, { running: {} }));
const fetchedAndRunning = seen(pod('Running', { running: {} }, { terminated: { exitCode: 0 } }));
const deletedPending: SupervisorEvent = { type: 'podDeleted', pod: pod('Pending') };
const deletedRunning: SupervisorEvent = { type: 'podDeleted', pod: pod('Running', { running: {} }) };
/** The Job started 10 s before NOW, its deadline (the run's 5 s timeout) passed; with or without the controller's verdict yet. */
const job = (verdict: boolean): SupervisorEvent => ({
  type: 'job',
  job: {
    spec: { template: {} },
    status: { startTime: new Date(NOW - 10_000), ...(verdict ? { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] } : {}) },
  } as V1Job,
});
const timer = (name: 'pending' | 'pullGrace' | 'settle'): SupervisorEvent => ({ type: 'timer', timer: name });
const cancel: SupervisorEvent = { type: 'abort', reason: 'cancel' };
/** The launcher's end line, read and checked by the log follower. */
const endLine = (exitCode: number, oomKills: number | 'unknown' = 0): SupervisorEvent => ({
  type: 'scriptExit',
  exit: { exitCode, oomKills: oomKills === 'unknown' ? undefined : oomKills },
});
const deleting = seen({ ...pod('Running', { running: {} }), metadata: { name: POD, deletionTimestamp: new Date(NOW) } });
const oomKilled = seen(pod('Failed', { terminated: { exitCode: 0, reason: 'OOMKilled' } }));

/** The state the events reach from a fresh supervision, and the actions of the last one. */
function reach(events: SupervisorEvent[], readFetchLog: boolean): { state: SupervisorState; last: SupervisorAction[] } {
  let step = startSupervision(settings, { timeoutSeconds: 5, readFetchLog });
  for (const event of events) step = supervise(step.state, event, NOW);
  return { state: step.state, last: step.actions };
}

type Row = [string, SupervisorEvent[], SupervisorEvent, Partial<SupervisorState> & { phase: SupervisorState['phase'] }, SupervisorAction[]];

describe('the phases of a script Job', () => {
  it('starts pending, with its pending timer', () => {
    const { state, actions } = startSupervision(settings, { timeoutSeconds: 5, readFetchLog: true });
    expect(state).toMatchObject({ phase: 'pending', packagesLog: 'unread', pullGrace: false });
    expect(actions).toEqual([{ type: 'startTimer', timer: 'pending', ms: 60_000 }]);
  });

  describe.each<[string, boolean, Row[]]>([
    [
      'pending',
      false,
      [
        ['while unscheduled, it stays pending', [], waiting('ContainerCreating'), { phase: 'pending' }, []],
        [
          'a pull that fails arms the pull grace',
          [],
          waiting('ErrImagePull'),
          { phase: 'pending', pullGrace: true },
          [{ type: 'startTimer', timer: 'pullGrace', ms: 20_000 }],
        ],
        ['a pull that fails again does not arm it twice', [waiting('ErrImagePull')], waiting('ImagePullBackOff'), { phase: 'pending', pullGrace: true }, []],
        [
          'a pull that stops failing disarms it',
          [waiting('ErrImagePull')],
          waiting('ContainerCreating'),
          { phase: 'pending', pullGrace: false },
          [{ type: 'clearTimer', timer: 'pullGrace' }],
        ],
        [
          'the script running',
          [],
          running,
          { phase: 'running', log: 'following' },
          [{ type: 'clearTimer', timer: 'pending' }, { type: 'started' }, { type: 'followLogs', podName: POD }],
        ],
        [
          'the script running after a failing pull also stops the pull grace',
          [waiting('ErrImagePull')],
          running,
          { phase: 'running' },
          [{ type: 'clearTimer', timer: 'pending' }, { type: 'clearTimer', timer: 'pullGrace' }, { type: 'started' }, { type: 'followLogs', podName: POD }],
        ],
        [
          'a pod first seen ended is followed and settles',
          [],
          exited(0),
          { phase: 'settling', outcome: outcomes.succeeded(), log: 'following' },
          [{ type: 'clearTimer', timer: 'pending' }, { type: 'started' }, { type: 'followLogs', podName: POD }, { type: 'scriptEnded' }],
        ],
        ['the pending timeout', [], timer('pending'), { phase: 'ended' }, [{ type: 'finish', outcome: outcomes.unschedulable(60, 'no reason reported') }]],
        ['a pull grace timer that was disarmed', [], timer('pullGrace'), { phase: 'pending' }, []],
        [
          'the pod deleted',
          [waiting('ContainerCreating')],
          deletedPending,
          { phase: 'vanished', started: false, log: 'none' },
          [
            { type: 'clearTimer', timer: 'pending' },
            { type: 'startTimer', timer: 'settle', ms: SETTLE_MS },
          ],
        ],
        [
          'the Job deleted',
          [],
          { type: 'jobDeleted' },
          { phase: 'ended' },
          [
            { type: 'clearTimer', timer: 'pending' },
            { type: 'finish', outcome: outcomes.podDeleted('Job') },
          ],
        ],
        [
          'the Job’s deadline verdict',
          [],
          job(true),
          { phase: 'ended' },
          [
            { type: 'clearTimer', timer: 'pending' },
            { type: 'finish', outcome: outcomes.deadlineExceeded(5) },
          ],
        ],
        ['a Job update with no verdict', [], job(false), { phase: 'pending' }, []],
        ['a cancel', [waiting('ContainerCreating')], cancel, { phase: 'cancelling', started: false }, [{ type: 'deleteJob', podName: POD }]],
      ],
    ],
    [
      'fetching',
      true,
      [
        [
          'the download running',
          [],
          fetching,
          { phase: 'fetching', packagesLog: 'following' },
          [
            { type: 'clearTimer', timer: 'pending' },
            { type: 'system', text: 'Fetching packages (init container fetch)' },
            { type: 'readFetchLog', podName: POD },
          ],
        ],
        ['a pending timer that was stopped', [fetching], timer('pending'), { phase: 'fetching' }, []],
        [
          'the Job deleted before the download was seen: no packages’ log to wait for',
          [],
          { type: 'jobDeleted' },
          { phase: 'ended' },
          [
            { type: 'clearTimer', timer: 'pending' },
            { type: 'finish', outcome: outcomes.podDeleted('Job') },
          ],
        ],
        [
          'the download done and the script running: its log waits for the packages’ lines',
          [fetching],
          fetchedAndRunning,
          { phase: 'running', log: 'queued', packagesLog: 'draining' },
          [{ type: 'fetchEnded' }, { type: 'started' }],
        ],
        [
          'the packages’ lines in: the script’s log is followed',
          [fetching, fetchedAndRunning],
          { type: 'fetchLogRead' },
          { phase: 'running', log: 'following', packagesLog: 'read' },
          [{ type: 'followLogs', podName: POD }],
        ],
        [
          'an end line before the script’s log is followed (the packages’ lines still read) changes nothing',
          [fetching, fetchedAndRunning],
          endLine(0),
          { phase: 'running', log: 'queued' },
          [],
        ],
        [
          'a download ended before it was seen: its log is read, then the script’s',
          [],
          fetchedAndRunning,
          { phase: 'running', log: 'queued', packagesLog: 'draining' },
          [{ type: 'readFetchLog', podName: POD }, { type: 'fetchEnded' }, { type: 'clearTimer', timer: 'pending' }, { type: 'started' }],
        ],
        [
          'the Job deleted while it downloads waits for the rest of the packages’ lines',
          [fetching],
          { type: 'jobDeleted' },
          { phase: 'settling', log: 'done', packagesLog: 'draining' },
          [{ type: 'fetchEnded' }],
        ],
        [
          '… which then ends it',
          [fetching, { type: 'jobDeleted' }],
          { type: 'fetchLogRead' },
          { phase: 'ended' },
          [{ type: 'finish', outcome: outcomes.podDeleted('Job') }],
        ],
      ],
    ],
    [
      'running',
      false,
      [
        ['the script running again', [running], running, { phase: 'running' }, []],
        ['its end line: the exit code, at once', [running], endLine(0), { phase: 'ended' }, [{ type: 'finish', outcome: outcomes.succeeded() }]],
        ['its end line with a failure', [running], endLine(3), { phase: 'ended' }, [{ type: 'finish', outcome: outcomes.scriptFailed(3) }]],
        [
          'its end line with a failure past the deadline: the Job’s verdict is awaited',
          [job(false), running],
          endLine(137),
          { phase: 'settling', outcome: outcomes.scriptFailed(137), log: 'done', awaitingVerdict: true },
          [{ type: 'startTimer', timer: 'settle', ms: SETTLE_MS }],
        ],
        ['its end line after an OOM kill: the log is in, the status decides', [running], endLine(137, 1), { phase: 'running', log: 'done' }, []],
        ['its end line when OOM kills could not be read: the status decides', [running], endLine(0, 'unknown'), { phase: 'running', log: 'done' }, []],
        ['the pod being deleted by something else', [running], deleting, { phase: 'running', podDeleting: true }, []],
        ['its end line while the pod is deleted: the status decides', [running, deleting], endLine(0), { phase: 'running', log: 'done' }, []],
        [
          '… which then ends it at once, with no log to wait for',
          [running, endLine(0, 1)],
          oomKilled,
          { phase: 'ended' },
          [{ type: 'finish', outcome: outcomes.oomKilled() }],
        ],

        [
          'the script ending',
          [running],
          exited(3),
          { phase: 'settling', outcome: outcomes.scriptFailed(3), log: 'following', started: true },
          [{ type: 'scriptEnded' }],
        ],
        ['the pending timer (already stopped)', [running], timer('pending'), { phase: 'running' }, []],
        [
          'the pod deleted',
          [running],
          deletedRunning,
          { phase: 'vanished', started: true, log: 'following' },
          [{ type: 'startTimer', timer: 'settle', ms: SETTLE_MS }],
        ],
        [
          'the Job’s deadline verdict',
          [running],
          job(true),
          { phase: 'settling', outcome: outcomes.deadlineExceeded(5), log: 'following' },
          [{ type: 'scriptEnded' }],
        ],
        ['the Job deleted', [running], { type: 'jobDeleted' }, { phase: 'settling', outcome: outcomes.podDeleted('Job') }, [{ type: 'scriptEnded' }]],
        ['a cancel', [running], cancel, { phase: 'cancelling', started: true }, [{ type: 'deleteJob', podName: POD }]],
        ['a shutdown', [running], { type: 'abort', reason: 'shutdown' }, { phase: 'ended' }, [{ type: 'handBack' }]],
      ],
    ],
    [
      'vanished',
      false,
      [
        [
          'no verdict in the settle time: PodDeleted, the log cut short',
          [running, deletedRunning],
          timer('settle'),
          { phase: 'settling', outcome: outcomes.podDeleted('pod'), log: 'following' },
          [{ type: 'clearTimer', timer: 'settle' }, { type: 'scriptEnded' }, { type: 'stopLogs' }],
        ],
        [
          'no verdict and no log: PodDeleted at once',
          [deletedPending],
          timer('settle'),
          { phase: 'ended' },
          [
            { type: 'clearTimer', timer: 'settle' },
            { type: 'finish', outcome: outcomes.podDeleted('pod') },
          ],
        ],
        [
          'the Job’s verdict in time: its log is read to the end',
          [running, deletedRunning],
          job(true),
          { phase: 'settling', outcome: outcomes.deadlineExceeded(5) },
          [{ type: 'clearTimer', timer: 'settle' }, { type: 'scriptEnded' }],
        ],
        [
          'the Job deleted',
          [running, deletedRunning],
          { type: 'jobDeleted' },
          { phase: 'settling', outcome: outcomes.podDeleted('Job') },
          [{ type: 'clearTimer', timer: 'settle' }, { type: 'scriptEnded' }],
        ],
        ['a cancel after the script started', [running, deletedRunning], cancel, { phase: 'cancelling', started: true }, [{ type: 'deleteJob', podName: POD }]],
        ['its end line: the log is in, the Job still gives the verdict', [running, deletedRunning], endLine(0), { phase: 'vanished', log: 'done' }, []],
        [
          '… and no verdict in the settle time: PodDeleted, with no log to cut',
          [running, deletedRunning, endLine(0)],
          timer('settle'),
          { phase: 'ended' },
          [
            { type: 'clearTimer', timer: 'settle' },
            { type: 'finish', outcome: outcomes.podDeleted('pod') },
          ],
        ],
      ],
    ],
    [
      'settling',
      false,
      [
        ['the whole log in', [running, exited(0)], { type: 'logsDone' }, { phase: 'ended' }, [{ type: 'finish', outcome: outcomes.succeeded() }]],
        [
          'its end line once the status said how it ended: the status’s outcome',
          [running, oomKilled],
          endLine(0),
          { phase: 'ended' },
          [{ type: 'finish', outcome: outcomes.oomKilled() }],
        ],
        ['the whole log in after its end line was read: nothing more', [running, endLine(0, 1), deleting], { type: 'logsDone' }, { phase: 'running' }, []],
        [
          'a failure past the deadline waits for the Job’s verdict',
          [job(false), running, exited(137)],
          { type: 'logsDone' },
          { phase: 'settling', awaitingVerdict: true },
          [{ type: 'startTimer', timer: 'settle', ms: SETTLE_MS }],
        ],
        [
          'the verdict in time wins',
          [job(false), running, exited(137), { type: 'logsDone' }],
          job(true),
          { phase: 'ended' },
          [{ type: 'finish', outcome: outcomes.deadlineExceeded(5) }],
        ],
        [
          'no verdict in time keeps the exit code',
          [job(false), running, exited(137), { type: 'logsDone' }],
          timer('settle'),
          { phase: 'ended' },
          [{ type: 'finish', outcome: outcomes.scriptFailed(137) }],
        ],
        ['the pod ending again changes nothing', [running, exited(0)], exited(3), { phase: 'settling', outcome: outcomes.succeeded() }, []],
        ['a cancel while the log is read', [running, exited(0)], cancel, { phase: 'cancelling', started: true }, [{ type: 'deleteJob', podName: POD }]],
      ],
    ],
    [
      'cancelling',
      false,
      [
        ['the pod ending', [running, cancel], exited(137), { phase: 'cancelling' }, []],
        ['the Job deleted by the cancel itself', [running, cancel], { type: 'jobDeleted' }, { phase: 'cancelling' }, []],
        ['a second cancel', [running, cancel], cancel, { phase: 'cancelling' }, []],
        ['the deletion done', [running, cancel], { type: 'deleted' }, { phase: 'ended' }, [{ type: 'finish', outcome: outcomes.cancelled('running') }]],
        [
          'the deletion done before it started',
          [cancel],
          { type: 'deleted' },
          { phase: 'ended' },
          [{ type: 'finish', outcome: outcomes.cancelled('before start') }],
        ],
        ['a shutdown', [running, cancel], { type: 'abort', reason: 'shutdown' }, { phase: 'ended' }, [{ type: 'handBack' }]],
      ],
    ],
    ['ended', false, [['anything at all', [running, exited(0), { type: 'logsDone' }], cancel, { phase: 'ended' }, []]]],
  ])('from %s', (_phase, readFetchLog, rows) => {
    it.each(rows)('%s', (_case, before, event, next, actions) => {
      const from = reach(before, readFetchLog).state;
      const step = supervise(from, event, NOW);
      expect(step.state).toMatchObject(next);
      expect(step.actions).toEqual(actions);
    });
  });

  it('keeps only what each phase needs', () => {
    const ended = reach([running, exited(0), { type: 'logsDone' }], false).state;
    expect(ended).toEqual({ phase: 'ended' });
    const cancelling = reach([waiting('ErrImagePull'), cancel], false).state;
    expect(Object.keys(cancelling)).not.toContain('pullGrace');
    expect(Object.keys(cancelling)).not.toContain('waiting');
  });
});
