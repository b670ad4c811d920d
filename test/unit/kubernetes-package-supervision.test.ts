/**
 * Supervising a script pod whose packages an init container fetches: the download is not
 * "pending", its lines are read once it ends, and its failure is PackageFailed with the message
 * `kube-worker fetch` left in its termination message — before the script ever runs.
 */
import type { V1ContainerState, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FETCH_CONTAINER, SCRIPT_CONTAINER } from '../../executor/kubernetes/names.js';
import { viewPod } from '../../executor/kubernetes/pod-state.js';
import { startSupervision, supervise, type SupervisorAction, type SupervisorEvent } from '../../executor/kubernetes/supervision.js';
import { outcomes } from '../../core/contract/outcomes.js';

const settings = { podPendingTimeoutSeconds: 60, imagePullGraceSeconds: 20 };
const status = (phase: string, fetch: V1ContainerState, script: V1ContainerState): V1Pod => ({
  metadata: { name: 'kw-p-1' },
  status: {
    phase,
    initContainerStatuses: [{ name: FETCH_CONTAINER, image: 'kw', imageID: '', ready: false, restartCount: 0, state: fetch }],
    containerStatuses: [{ name: SCRIPT_CONTAINER, image: 'tools', imageID: '', ready: false, restartCount: 0, state: script }],
  },
});
const initializing = { waiting: { reason: 'PodInitializing' } };
const fetching = status('Pending', { running: {} }, initializing);
const fetchFailed = (message?: string): V1Pod =>
  status('Failed', { terminated: { exitCode: 1, reason: 'Error', ...(message ? { message } : {}) } }, initializing);
const scriptRunning = status('Running', { terminated: { exitCode: 0 } }, { running: {} });
const pod = (p: V1Pod): SupervisorEvent => ({ type: 'pod', pod: p });

function feed(events: SupervisorEvent[], readFetchLog = true): SupervisorAction[] {
  let { state, actions } = startSupervision(settings, { timeoutSeconds: 600, readFetchLog });
  const all = [...actions];
  for (const input of events) {
    ({ state, actions } = supervise(state, input, Date.now()));
    all.push(...actions);
  }
  return all;
}

describe('the pod of an operation with packages', () => {
  it.each<[string, V1Pod, ReturnType<typeof viewPod>]>([
    ['fetching', fetching, { kind: 'waiting', reason: 'FetchingPackages', fetching: true }],
    [
      'failed to fetch, with the reason it left',
      fetchFailed('Package app: answered HTTP 404'),
      { kind: 'failedBeforeStart', outcome: outcomes.packageFailed('Package app: answered HTTP 404') },
    ],
    [
      'failed to fetch, saying nothing',
      fetchFailed(),
      { kind: 'failedBeforeStart', outcome: outcomes.packageFailed('The packages could not be fetched: the fetch container exited with code 1 (Error)') },
    ],
    [
      'pulling the fetch image',
      status('Pending', { waiting: { reason: 'ImagePullBackOff', message: 'no such image' } }, initializing),
      { kind: 'waiting', reason: 'ImagePullBackOff', message: 'no such image', pull: 'failing' },
    ],
    ['running its script after the fetch', scriptRunning, { kind: 'running' }],
  ])('reads as %s', (_what, p, view) => {
    expect(viewPod(p)).toEqual(view);
  });

  it('a PackageFailed outcome has its own exit code, -45', () => {
    expect(outcomes.packageFailed('x')).toEqual({ state: 'failed', exitCode: -45, failure: { reason: 'PackageFailed', message: 'x' } });
  });

  it('stops the pending timer once the download runs, and says so once', () => {
    const actions = feed([pod(fetching), pod(fetching)]);
    expect(actions.filter((a) => a.type === 'clearTimer')).toEqual([{ type: 'clearTimer', timer: 'pending' }]);
    expect(actions.filter((a) => a.type === 'system')).toEqual([{ type: 'system', text: 'Fetching packages (init container fetch)' }]);
  });

  it("follows the fetch log from when the download runs, once, and the script's only once every package line is in", () => {
    const actions = feed([pod(fetching), pod(fetching), pod(scriptRunning), pod(scriptRunning)]);
    const kinds = actions.map((a) => a.type).filter((t) => t === 'readFetchLog' || t === 'fetchEnded' || t === 'followLogs');
    expect(kinds).toEqual(['readFetchLog', 'fetchEnded']);
    const read = feed([pod(fetching), pod(scriptRunning), { type: 'fetchLogRead' }]);
    expect(read.filter((a) => a.type === 'readFetchLog' || a.type === 'followLogs')).toEqual([
      { type: 'readFetchLog', podName: 'kw-p-1' },
      { type: 'followLogs', podName: 'kw-p-1' },
    ]);
    // Live progress: the follow starts as soon as the download runs, not when it ends.
    expect(feed([pod(fetching)])).toContainEqual({ type: 'readFetchLog', podName: 'kw-p-1' });
  });

  it('reads the fetch log even when the download ended before it was seen running', () => {
    expect(feed([pod(scriptRunning)])).toContainEqual({ type: 'readFetchLog', podName: 'kw-p-1' });
  });

  it('fails with PackageFailed without starting the script, once the fetch log is read', () => {
    const before = feed([pod(fetching), pod(fetchFailed('Package app: the SHA-256 differs'))]);
    expect(before).toContainEqual({ type: 'readFetchLog', podName: 'kw-p-1' });
    expect(before.some((a) => a.type === 'finish' || a.type === 'started' || a.type === 'followLogs')).toBe(false);
    const after = feed([pod(fetching), pod(fetchFailed('Package app: the SHA-256 differs')), { type: 'fetchLogRead' }]);
    expect(after.filter((a) => a.type === 'finish')).toEqual([{ type: 'finish', outcome: outcomes.packageFailed('Package app: the SHA-256 differs') }]);
  });

  it('a Job deleted while it downloads fails as PodDeleted once the rest of the fetch log is read', () => {
    const actions = feed([pod(fetching), { type: 'jobDeleted' }, { type: 'fetchLogRead' }]);
    expect(actions.filter((a) => a.type === 'finish')).toEqual([{ type: 'finish', outcome: outcomes.podDeleted('Job') }]);
  });

  it('does not read it again when adopting a run whose package lines are all stored', () => {
    expect(feed([pod(scriptRunning)], false).some((a) => a.type === 'readFetchLog')).toBe(false);
  });
});
