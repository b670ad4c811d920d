/**
 * The Job driver against a fake cluster: a watch the test feeds, pod logs it writes and ends, a
 * Job deletion it records, and a fake clock. What it proves is the wiring — events in, calls out,
 * everything let go at the end; the decisions are the reducer's, tested on their own.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobListener } from '../../executor/kubernetes/cluster-watch.js';
import { driveJob, type JobPorts } from '../../executor/kubernetes/job-supervisor.js';
import { FETCH_CONTAINER, SCRIPT_CONTAINER } from '../../executor/kubernetes/names.js';
import type { CursorFilter, PodLogLine } from '../../executor/kubernetes/pod-log.js';
import { outcomes } from '../../core/contract/outcomes.js';
import { pod, POD } from './support/script-pod.js';
import { HANDED_BACK, type RunContext } from '../../executor/runtime.js';

interface OpenLog {
  container: string;
  follow: boolean;
  write(text: string, origin: string): void;
  end(): void;
}

/** A cluster the test drives by hand. */
function fakeCluster() {
  const logs: OpenLog[] = [];
  let listener: JobListener | undefined;
  let replay: (l: JobListener) => void = () => undefined;
  const unsubscribe = vi.fn();
  const ports: JobPorts = {
    subscribe(l) {
      listener = l;
      replay(l);
      return unsubscribe;
    },
    readLog(podName: string, container: string, filter: CursorFilter, follow: boolean, onLine: (line: PodLogLine) => void) {
      expect(podName).toBe(POD);
      let end = (): void => undefined;
      const done = new Promise<void>((resolve) => (end = resolve));
      logs.push({
        container,
        follow,
        end,
        write: (text, origin) =>
          void (filter.take({ stream: 'stdout', text, at: Date.parse(origin), origin }) && onLine({ stream: 'stdout', text, at: Date.parse(origin), origin })),
      });
      return { done, stop: end };
    },
    deleteJob: vi.fn(async () => undefined),
  };
  return {
    ports,
    logs,
    unsubscribe,
    watch: () => listener!,
    replayOnSubscribe: (r: (l: JobListener) => void) => void (replay = r),
  };
}

function fakeRun(readFetchLog = false) {
  const controller = new AbortController();
  const output = { system: vi.fn(), line: vi.fn() };
  const context = {
    ticket: 't-1',
    request: {},
    timeoutSeconds: 5,
    output,
    started: vi.fn(async () => undefined),
    moment: vi.fn(),
    signal: controller.signal,
  } as unknown as RunContext;
  const job = {
    context,
    settings: { podPendingTimeoutSeconds: 60, imagePullGraceSeconds: 20 },
    cursor: undefined,
    readFetchLog,
    fetchCursor: undefined,
    logger: { warn: vi.fn(), debug: vi.fn() } as never,
  };
  return { job, output, context, abort: (reason: 'cancel' | 'shutdown') => controller.abort(reason) };
}

const flush = async (ms = 0): Promise<void> => void (await vi.advanceTimersByTimeAsync(ms));

describe('driving a script Job', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("follows the script's log while it runs and ends once the log is in, letting go of the watch", async () => {
    const cluster = fakeCluster();
    const run = fakeRun();
    const outcome = driveJob(cluster.ports, run.job);
    cluster.watch().pod(pod('Running', { running: {} }));
    expect(run.context.started).toHaveBeenCalledOnce();
    expect(cluster.logs.map((l) => [l.container, l.follow])).toEqual([[SCRIPT_CONTAINER, true]]);
    cluster.logs[0]!.write('hello', '2026-01-01T00:00:01Z');
    cluster.watch().pod(pod('Succeeded', { terminated: { exitCode: 0 } }));
    await flush();
    expect(cluster.unsubscribe).not.toHaveBeenCalled();
    cluster.logs[0]!.end();
    await expect(outcome).resolves.toEqual(outcomes.succeeded());
    expect(run.output.line).toHaveBeenCalledWith('stdout', 'hello', Date.parse('2026-01-01T00:00:01Z'), '2026-01-01T00:00:01Z');
    expect(cluster.unsubscribe).toHaveBeenCalledOnce();
  });

  it("reports the timeline's moments in what the watch shows: the pod bound, the script's image pulled, the script ended", async () => {
    const cluster = fakeCluster();
    const run = fakeRun();
    const outcome = driveJob(cluster.ports, run.job);
    const bound = (p: ReturnType<typeof pod>) => ({ ...p, status: { ...p.status, conditions: [{ type: 'PodScheduled', status: 'True' }] } });
    cluster.watch().pod(bound(pod('Pending', { waiting: { reason: 'ContainerCreating' } })));
    cluster.watch().event({
      metadata: { uid: 'e-1' },
      involvedObject: { kind: 'Pod', name: POD, fieldPath: `spec.containers{${SCRIPT_CONTAINER}}` },
      reason: 'Pulled',
      message: 'Successfully pulled image "x" in 1.5s (1.5s including waiting)',
    });
    cluster.watch().pod(bound(pod('Running', { running: {} })));
    cluster.watch().pod(bound(pod('Succeeded', { terminated: { exitCode: 0 } })));
    cluster.logs[0]!.end();
    await expect(outcome).resolves.toEqual(outcomes.succeeded());
    // The same moment seen in each update is the run timeline's to keep once.
    expect(new Set(vi.mocked(run.context.moment).mock.calls.map(([moment]) => JSON.stringify(moment)))).toEqual(
      new Set([{ name: 'podScheduled' }, { name: 'imagePulled', pullSeconds: 1.5 }, { name: 'scriptEnded' }].map((m) => JSON.stringify(m))),
    );
  });

  it("ends on the launcher's end line, before the pod's status or the stream's end, and keeps the launcher's lines out of the output", async () => {
    const cluster = fakeCluster();
    const run = fakeRun();
    const outcome = driveJob(cluster.ports, run.job);
    cluster.watch().pod(pod('Running', { running: {} }));
    const key = '0123456789abcdef0123456789abcdef';
    cluster.logs[0]!.write(`\u001fkube-worker seal ${createHash('sha256').update(key).digest('hex')}`, '2026-01-01T00:00:01Z');
    cluster.logs[0]!.write('first-line', '2026-01-01T00:00:02Z');
    cluster.logs[0]!.write(`last\u001fkube-worker end 3 0 ${key}`, '2026-01-01T00:00:03Z');
    await expect(outcome).resolves.toEqual(outcomes.scriptFailed(3));
    expect(run.output.line.mock.calls.map((call) => call[1])).toEqual(['first-line', 'last']);
    expect(cluster.unsubscribe).toHaveBeenCalledOnce();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("reads the packages' lines as system lines, then the script's", async () => {
    const cluster = fakeCluster();
    const run = fakeRun(true);
    const outcome = driveJob(cluster.ports, run.job);
    cluster.watch().pod(pod('Pending', { waiting: { reason: 'PodInitializing' } }, { running: {} }));
    expect(cluster.logs.map((l) => l.container)).toEqual([FETCH_CONTAINER]);
    cluster.logs[0]!.write('Downloading app', '2026-01-01T00:00:01Z');
    expect(run.output.system).toHaveBeenCalledWith('Downloading app', 'fetch 2026-01-01T00:00:01Z');
    cluster.watch().pod(pod('Running', { running: {} }, { terminated: { exitCode: 0 } }));
    await flush();
    expect(cluster.logs.map((l) => l.container)).toEqual([FETCH_CONTAINER]);
    cluster.logs[0]!.end();
    await flush();
    expect(cluster.logs.map((l) => l.container)).toEqual([FETCH_CONTAINER, SCRIPT_CONTAINER]);
    cluster.watch().pod(pod('Failed', { terminated: { exitCode: 3 } }, { terminated: { exitCode: 0 } }));
    cluster.logs[1]!.end();
    await expect(outcome).resolves.toEqual(outcomes.scriptFailed(3));
  });

  it('on cancel, deletes the Job and its pod, and ends Cancelled', async () => {
    const cluster = fakeCluster();
    const run = fakeRun();
    const outcome = driveJob(cluster.ports, run.job);
    cluster.watch().pod(pod('Running', { running: {} }));
    run.abort('cancel');
    await expect(outcome).resolves.toEqual(outcomes.cancelled('running'));
    expect(cluster.ports.deleteJob).toHaveBeenCalledExactlyOnceWith(POD);
    expect(cluster.unsubscribe).toHaveBeenCalledOnce();
  });

  it('on shutdown, hands the run back and leaves the Job alone', async () => {
    const cluster = fakeCluster();
    const run = fakeRun();
    const outcome = driveJob(cluster.ports, run.job);
    cluster.watch().pod(pod('Running', { running: {} }));
    run.abort('shutdown');
    await expect(outcome).resolves.toBe(HANDED_BACK);
    expect(cluster.ports.deleteJob).not.toHaveBeenCalled();
  });

  it('ends a pod pending past its timeout as Unschedulable, on its own clock', async () => {
    const cluster = fakeCluster();
    const run = fakeRun();
    const outcome = driveJob(cluster.ports, run.job);
    cluster.watch().event({ metadata: { uid: 'e1' }, reason: 'FailedScheduling', message: '0/1 nodes are available', count: 1, involvedObject: {} });
    await flush(59_999);
    cluster.watch().pod(pod('Pending'));
    await flush(1);
    await expect(outcome).resolves.toEqual(outcomes.unschedulable(60, '0/1 nodes are available'));
    expect(run.output.system).toHaveBeenCalledWith('FailedScheduling: 0/1 nodes are available');
  });

  it('ends at once when the watch replays a Job that already failed, and lets go of the watch', async () => {
    const cluster = fakeCluster();
    cluster.replayOnSubscribe((l) =>
      l.job({ spec: { template: {} }, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] } }),
    );
    const run = fakeRun();
    await expect(driveJob(cluster.ports, run.job)).resolves.toEqual(outcomes.deadlineExceeded(5));
    expect(cluster.unsubscribe).toHaveBeenCalledOnce();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('deletes the Job of an operation cancelled before it was watched', async () => {
    const cluster = fakeCluster();
    const run = fakeRun();
    run.abort('cancel');
    await expect(driveJob(cluster.ports, run.job)).resolves.toEqual(outcomes.cancelled('before start'));
    expect(cluster.ports.deleteJob).toHaveBeenCalledExactlyOnceWith(undefined);
  });

  it('leaves no timer behind once it has ended', async () => {
    const cluster = fakeCluster();
    const run = fakeRun();
    const outcome = driveJob(cluster.ports, run.job);
    cluster.watch().pod(pod('Pending', { waiting: { reason: 'ErrImagePull' } }));
    expect(vi.getTimerCount()).toBe(2);
    cluster.watch().pod(pod('Pending', { waiting: { reason: 'InvalidImageName', message: 'bad' } }));
    await expect(outcome).resolves.toEqual(outcomes.imageInvalid('bad'));
    expect(vi.getTimerCount()).toBe(0);
  });
});
