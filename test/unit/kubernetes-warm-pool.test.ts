/**
 * The warm pool against a fake API and watch: how many warm Jobs it keeps, which one it hands out,
 * and when it replaces them.
 */
import type * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readConfig } from '../../core/config.js';
import type { ClusterWatch, JobListener } from '../../executor/kubernetes/cluster-watch.js';
import type { KubeApi } from '../../executor/kubernetes/kube-api.js';
import { WarmPool } from '../../executor/kubernetes/warm-pool.js';

function fakes() {
  const listeners = new Map<string, JobListener>();
  const created: string[] = [];
  const deleted: string[] = [];
  const api = {
    namespace: 'ns',
    call: (_verb: string, fn: () => Promise<unknown>) => fn(),
    batch: {
      createNamespacedJob: vi.fn(async ({ body }: { body: k8s.V1Job }) => {
        created.push(body.metadata!.name!);
        return body;
      }),
      deleteNamespacedJob: vi.fn(async ({ name }: { name: string }) => void deleted.push(name)),
    },
  } as unknown as KubeApi;
  const watch = {
    subscribe: (name: string, listener: JobListener) => {
      listeners.set(name, listener);
      return () => listeners.delete(name);
    },
  } as unknown as ClusterWatch;
  const gauge = { values: new Map<string, number>(), set: (l: { pool: string; state: string }, v: number) => gauge.values.set(`${l.pool} ${l.state}`, v) };
  const pod = (name: string, state: k8s.V1ContainerState, phase = 'Running', nodeName: string | null = 'node-1'): k8s.V1Pod => ({
    metadata: { name: `${name}-pod` },
    spec: { containers: [], nodeName: nodeName ?? undefined },
    status: { phase, containerStatuses: [{ name: 'script', image: 'x', imageID: '', ready: true, restartCount: 0, state }] },
  });
  const run = (name: string) => listeners.get(name)!.pod(pod(name, { running: {} }));
  return { api, watch, gauge, created, deleted, listeners, run, pod };
}

const settings = (size: number) => ({ size, maxAgeSeconds: 60, pools: ['default', 'gpu'], script: readConfig({ KUBE_WORKER_INSTANCE: 'kw' }) });
const logger = { info: vi.fn(), warn: vi.fn() } as never;

describe('the warm pool', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps its size per pool, and hands out only a pod whose container runs', async () => {
    const f = fakes();
    const pool = new WarmPool(f.api, f.watch, settings(2), logger, f.gauge);
    pool.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(f.created).toHaveLength(4);
    expect(f.gauge.values.get('default pending')).toBe(2);
    expect(pool.take('default')).toBeUndefined();
    const [first, second] = [...f.listeners.keys()];
    f.listeners.get(second!)!.pod(f.pod(second!, { waiting: { reason: 'ContainerCreating' } }, 'Pending'));
    expect(['pending', 'starting', 'ready'].map((state) => f.gauge.values.get(`default ${state}`))).toEqual([1, 1, 0]);
    f.run(first!);
    expect(['pending', 'starting', 'ready'].map((state) => f.gauge.values.get(`default ${state}`))).toEqual([0, 1, 1]);
    expect(pool.take('gpu')).toBeUndefined();
    expect(pool.take('default')).toMatchObject({ jobName: first, podName: `${first}-pod` });
    // Its replacement at once, and the one handed out is no longer the pool's.
    await vi.advanceTimersByTimeAsync(0);
    expect(f.created).toHaveLength(5);
    expect(f.listeners.has(first!)).toBe(false);
    expect(pool.take('default')).toBeUndefined();
    await pool.close();
  });

  it('replaces a warm pod that ended or was deleted while idle', async () => {
    const f = fakes();
    const pool = new WarmPool(f.api, f.watch, { ...settings(1), pools: ['default'] }, logger);
    pool.start();
    const [name] = [...f.listeners.keys()];
    f.listeners.get(name!)!.pod(f.pod(name!, { terminated: { exitCode: 137 } }, 'Failed'));
    await vi.advanceTimersByTimeAsync(0);
    expect(f.deleted).toEqual([name]);
    expect(f.created).toHaveLength(2);
    const [second] = [...f.listeners.keys()];
    f.listeners.get(second!)!.jobDeleted({} as k8s.V1Job);
    await vi.advanceTimersByTimeAsync(0);
    expect(f.created).toHaveLength(3);
    await pool.close();
  });

  it('replaces a warm pod that got no work before its age', async () => {
    const f = fakes();
    const pool = new WarmPool(f.api, f.watch, { ...settings(1), pools: ['default'] }, logger);
    pool.start();
    const [name] = [...f.listeners.keys()];
    f.run(name!);
    await vi.advanceTimersByTimeAsync(55_000);
    expect(f.deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(f.deleted).toEqual([name]);
    expect(f.created).toHaveLength(2);
    await pool.close();
  });

  it('counts a warm pod no node has room for as pending, and hands out none while there is only that', async () => {
    const f = fakes();
    const pool = new WarmPool(f.api, f.watch, { ...settings(1), pools: ['default'] }, logger, f.gauge);
    pool.start();
    const [name] = [...f.listeners.keys()];
    f.listeners.get(name!)!.pod(f.pod(name!, {}, 'Pending', null));
    expect(['pending', 'starting', 'ready'].map((state) => f.gauge.values.get(`default ${state}`))).toEqual([1, 0, 0]);
    expect(pool.take('default')).toBeUndefined();
    await pool.close();
  });

  it('tries again when a warm Job cannot be created, without holding anything up', async () => {
    const f = fakes();
    (f.api.batch.createNamespacedJob as ReturnType<typeof vi.fn>).mockRejectedValueOnce(new Error('quota'));
    const pool = new WarmPool(f.api, f.watch, { ...settings(1), pools: ['default'] }, logger);
    pool.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.take('default')).toBeUndefined();
    await vi.advanceTimersByTimeAsync(5000);
    expect(f.created).toHaveLength(1);
    await pool.close();
  });

  it('shrinks to zero when closed: idle warm Jobs deleted, none made again', async () => {
    const f = fakes();
    const pool = new WarmPool(f.api, f.watch, settings(2), logger, f.gauge);
    pool.start();
    await vi.advanceTimersByTimeAsync(0);
    await pool.close();
    expect(f.deleted.sort()).toEqual([...f.created].sort());
    await vi.advanceTimersByTimeAsync(120_000);
    expect(f.created).toHaveLength(4);
    expect(['pending', 'starting', 'ready'].map((state) => f.gauge.values.get(`default ${state}`))).toEqual([0, 0, 0]);
  });
});
