/**
 * The warm script pods one executor keeps, per pool it serves: `size` Jobs started and waiting
 * (warm-pod-spec.ts). `take` hands out one whose container runs and starts its replacement at once;
 * a warm pod that gets no operation for `maxAgeSeconds` is replaced by a fresh one; one that fails
 * or is deleted is replaced too. Creating warm pods is never awaited by an operation, so a warm pod
 * left pending (no room on the nodes) holds no operation up: operations take the cold path while
 * none is ready. `close` stops refilling and deletes the idle ones: the pool shrinks to zero.
 */
import type * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import type { ClusterWatch } from './cluster-watch.js';
import { deleteJob } from './job-deletion.js';
import type { ScriptPodSettings } from './job-spec.js';
import type { KubeApi } from './kube-api.js';
import { SCRIPT_CONTAINER } from './names.js';
import { buildWarmJob, warmJobName } from './warm-pod-spec.js';

export interface WarmPoolSettings {
  /** Warm pods per pool. */
  size: number;
  maxAgeSeconds: number;
  pools: readonly string[];
  script: ScriptPodSettings;
}

/** A warm pod handed out by `take`: its Job and pod, and when the Job started (its deadline counts from then). */
export interface WarmPod {
  jobName: string;
  podName: string;
  startedAt: number;
}

/** Sets the kube_worker_warm_pods gauge. */
export interface WarmGauge {
  set(labels: { pool: string; state: string }, value: number): void;
}

interface Entry {
  pool: string;
  name: string;
  createdAt: number;
  podName?: string;
  /** Its pod is on a node; until then it is pending (no room on the nodes, or not yet scheduled). */
  scheduled: boolean;
  ready: boolean;
  stopWatching: () => void;
}

const CHECK_MS = 5000;
const RETRY_MS = 5000;

export class WarmPool {
  private readonly entries = new Map<string, Entry>();
  private readonly owner = `${randomBytes(4).toString('hex')}`;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly api: KubeApi,
    private readonly watch: ClusterWatch,
    private readonly settings: WarmPoolSettings,
    private readonly logger: Logger,
    private readonly gauge?: WarmGauge,
  ) {
    this.timer = setInterval(() => this.replaceStale(), CHECK_MS);
    this.timer.unref();
  }

  start(): void {
    for (const pool of this.settings.pools) this.fill(pool);
  }

  /** A ready warm pod of `pool`, now no longer the pool's; its replacement is started at once. */
  take(pool: string): WarmPod | undefined {
    const entry = [...this.entries.values()].find((e) => e.pool === pool && e.ready);
    if (!entry) return undefined;
    this.forget(entry);
    this.fill(pool);
    return { jobName: entry.name, podName: entry.podName!, startedAt: entry.createdAt };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const idle = [...this.entries.values()];
    idle.forEach((e) => this.forget(e));
    await Promise.all(idle.map((e) => deleteJob(this.api, e.name, 'released').catch(() => undefined)));
  }

  private fill(pool: string): void {
    if (this.closed) return;
    const have = [...this.entries.values()].filter((e) => e.pool === pool).length;
    for (let i = have; i < this.settings.size; i += 1) this.create(pool);
  }

  private create(pool: string): void {
    const id = randomBytes(5).toString('hex');
    const name = warmJobName(this.settings.script.instance, id);
    const entry: Entry = { pool, name, createdAt: Date.now(), scheduled: false, ready: false, stopWatching: () => undefined };
    this.entries.set(name, entry);
    entry.stopWatching = this.watch.subscribe(name, {
      pod: (pod) => this.onPod(entry, pod),
      podDeleted: () => this.lost(entry, 'its pod was deleted'),
      job: () => undefined,
      jobDeleted: () => this.lost(entry, 'its Job was deleted'),
      event: () => undefined,
    });
    this.report(pool);
    const job = buildWarmJob(id, pool, this.owner, this.settings.maxAgeSeconds, this.settings.script);
    this.api
      .call('create', () => this.api.batch.createNamespacedJob({ namespace: this.api.namespace, body: job }))
      .catch((error: unknown) => {
        this.logger.warn({ err: error, pool }, 'could not create a warm script pod; trying again shortly');
        this.forget(entry);
        setTimeout(() => this.fill(pool), RETRY_MS).unref();
      });
  }

  private onPod(entry: Entry, pod: k8s.V1Pod): void {
    if (!this.entries.has(entry.name)) return;
    const state = pod.status?.containerStatuses?.find((c) => c.name === SCRIPT_CONTAINER)?.state;
    if (state?.terminated || pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded' || pod.metadata?.deletionTimestamp) {
      return this.lost(entry, `its pod ended (${pod.status?.phase})`);
    }
    const ready = Boolean(state?.running);
    const scheduled = Boolean(pod.spec?.nodeName);
    if (ready === entry.ready && scheduled === entry.scheduled && entry.podName) return;
    entry.ready = ready;
    entry.scheduled = scheduled;
    entry.podName = pod.metadata?.name;
    this.report(entry.pool);
  }

  /** A warm pod that went while idle: replace it (its Job, if any is left, goes too). */
  private lost(entry: Entry, why: string): void {
    if (!this.entries.has(entry.name)) return;
    this.logger.info({ job: entry.name, pool: entry.pool }, `warm script pod replaced: ${why}`);
    this.forget(entry);
    void deleteJob(this.api, entry.name, 'released').catch(() => undefined);
    setTimeout(() => this.fill(entry.pool), 0).unref();
  }

  private replaceStale(): void {
    const now = Date.now();
    for (const entry of [...this.entries.values()]) {
      if (now - entry.createdAt < this.settings.maxAgeSeconds * 1000) continue;
      this.forget(entry);
      void deleteJob(this.api, entry.name, 'released').catch(() => undefined);
      this.fill(entry.pool);
    }
  }

  private forget(entry: Entry): void {
    if (!this.entries.delete(entry.name)) return;
    entry.stopWatching();
    this.report(entry.pool);
  }

  private report(pool: string): void {
    const of = [...this.entries.values()].filter((e) => e.pool === pool);
    this.gauge?.set({ pool, state: 'ready' }, of.filter((e) => e.ready).length);
    this.gauge?.set({ pool, state: 'starting' }, of.filter((e) => e.scheduled && !e.ready).length);
    this.gauge?.set({ pool, state: 'pending' }, of.filter((e) => !e.scheduled && !e.ready).length);
  }
}
