import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { jobFailure, viewPod } from '../../executor/kubernetes/pod-state.js';
import { outcomes } from '../../core/contract/outcomes.js';
import { UNDELIVERED_EXIT, UNDELIVERED_NOTE } from '../../executor/kubernetes/warm-pod-spec.js';

const pod = (status: V1Pod['status']): V1Pod => ({ status });
const container = (state: object) => ({ containerStatuses: [{ name: 'script', image: 'x', imageID: '', ready: false, restartCount: 0, state }] as never });

describe('where a script pod is', () => {
  it.each<[string, V1Pod, unknown]>([
    [
      'waiting to be scheduled',
      pod({
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }],
      }),
      { kind: 'waiting', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' },
    ],
    [
      'failing to pull its image',
      pod({ phase: 'Pending', ...container({ waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling' } }) }),
      { kind: 'waiting', reason: 'ImagePullBackOff', message: 'Back-off pulling', pull: 'failing' },
    ],
    [
      'given an invalid image name',
      pod({ phase: 'Pending', ...container({ waiting: { reason: 'InvalidImageName' } }) }),
      { kind: 'waiting', reason: 'InvalidImageName', pull: 'invalid' },
    ],
    ['running', pod({ phase: 'Running', ...container({ running: {} }) }), { kind: 'running' }],
    [
      'finished well',
      pod({ phase: 'Succeeded', ...container({ terminated: { exitCode: 0 } }) }),
      { kind: 'finished', outcome: { state: 'succeeded', exitCode: 0 } },
    ],
    [
      'finished with exit code 3',
      pod({ phase: 'Failed', ...container({ terminated: { exitCode: 3 } }) }),
      { kind: 'finished', outcome: { state: 'failed', exitCode: 3, failure: { reason: 'ScriptFailed', message: 'The script exited with code 3' } } },
    ],
    [
      'killed for memory',
      pod({ phase: 'Failed', ...container({ terminated: { exitCode: 137, reason: 'OOMKilled' } }) }),
      { kind: 'finished', outcome: { state: 'failed', exitCode: -81, failure: { reason: 'OOMKilled' } } },
    ],
    // A shell whose child the kernel killed for memory may go on and exit 0: still OOMKilled, -81.
    [
      'killed for memory, the shell exiting 0',
      pod({ phase: 'Succeeded', ...container({ terminated: { exitCode: 0, reason: 'OOMKilled' } }) }),
      { kind: 'finished', outcome: { state: 'failed', exitCode: -81, failure: { reason: 'OOMKilled' } } },
    ],
    [
      'warm, whose operation did not arrive whole: its wrapper says so, nothing ran',
      pod({ phase: 'Failed', ...container({ terminated: { exitCode: UNDELIVERED_EXIT, message: UNDELIVERED_NOTE } }) }),
      { kind: 'finished', outcome: outcomes.warmPayloadUndelivered() },
    ],
    [
      "that exited with the wrapper's code by itself: the script failed",
      pod({ phase: 'Failed', ...container({ terminated: { exitCode: UNDELIVERED_EXIT } }) }),
      { kind: 'finished', outcome: outcomes.scriptFailed(UNDELIVERED_EXIT) },
    ],
    [
      'evicted',
      pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }),
      { kind: 'finished', outcome: { state: 'failed', exitCode: -81, failure: { reason: 'Evicted', message: 'The node was low on resource: memory.' } } },
    ],
  ])('tells a pod %s', (_case, input, expected) => {
    expect(viewPod(input)).toMatchObject(expected as object);
  });
});

describe('a Job that fails by itself', () => {
  it('reports DeadlineExceeded as soon as the Job says its deadline passed (FailureTarget), before its pod is gone', () => {
    const job: V1Job = { spec: { template: {} }, status: { conditions: [{ type: 'FailureTarget', status: 'True', reason: 'DeadlineExceeded' }] } };
    expect(jobFailure(job, 5)).toEqual(outcomes.deadlineExceeded(5));
  });

  it('reports DeadlineExceeded with -44 and the timeout the run was given', () => {
    const job: V1Job = { spec: { template: {} }, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] } };
    expect(jobFailure(job, 5)).toEqual(outcomes.deadlineExceeded(5));
    expect(jobFailure(job, 5)).toMatchObject({
      state: 'failed',
      exitCode: -44,
      failure: { reason: 'DeadlineExceeded', message: 'The operation ran longer than its timeout of 5s and was stopped' },
    });
  });

  it('leaves other failures to the pod', () => {
    expect(jobFailure({ status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] } }, 5)).toBeUndefined();
  });
});
