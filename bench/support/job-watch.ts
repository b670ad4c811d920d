/**
 * One watch on the namespace's script Jobs of one kube-worker instance, as the bench sees them: when
 * each ticket's Job first appeared (this process's clock), how many Jobs each ticket had, when each
 * ended, and the most Jobs that existed unended at once — what the executors' concurrency must bound.
 */
import * as k8s from '@kubernetes/client-node';
import { ANNOTATION_TICKET, instanceSelector } from '../../executor/kubernetes/names.js';

const ended = (job: k8s.V1Job): boolean => Boolean(job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True'));

export class JobWatch {
  /** Ticket → when its (first) Job was seen, ms (performance.now()). */
  readonly created = new Map<string, number>();
  /** Ticket → Jobs seen added (more than one: a Job made again). */
  readonly jobsPerTicket = new Map<string, number>();
  /** Job name → when it was seen ended. */
  readonly endedAt = new Map<string, number>();
  /** The most Jobs that existed, not yet ended, at once. */
  maxUnended = 0;
  /** Jobs seen deleted. */
  deleted = 0;
  /** Called with each Job the watch sees added. */
  onAdded: (job: k8s.V1Job) => void = () => undefined;
  private readonly unended = new Set<string>();
  private readonly informer: k8s.Informer<k8s.V1Job> & k8s.ObjectCache<k8s.V1Job>;
  private waiters: Array<{ count: number; resolve(): void }> = [];

  constructor(kubeConfig: k8s.KubeConfig, namespace: string, instance: string) {
    const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
    const labelSelector = instanceSelector(instance);
    this.informer = k8s.makeInformer(
      kubeConfig,
      `/apis/batch/v1/namespaces/${namespace}/jobs`,
      () => batch.listNamespacedJob({ namespace, labelSelector }),
      labelSelector,
    );
    this.informer.on('add', (job) => this.seen(job, true));
    this.informer.on('update', (job) => this.seen(job, false));
    this.informer.on('delete', (job) => {
      this.deleted += 1;
      this.unended.delete(job.metadata?.name ?? '');
      this.seenEnd(job.metadata?.name ?? '');
    });
    this.informer.on('error', () => setTimeout(() => void this.informer.start().catch(() => undefined), 1000));
  }

  start(): Promise<void> {
    return this.informer.start();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  /** Resolves once `count` Jobs have ended (or gone). */
  untilEnded(count: number): Promise<void> {
    if (this.endedAt.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  private seen(job: k8s.V1Job, added: boolean): void {
    const name = job.metadata?.name ?? '';
    const ticket = job.metadata?.annotations?.[ANNOTATION_TICKET] ?? name;
    if (added) {
      this.onAdded(job);
      this.jobsPerTicket.set(ticket, (this.jobsPerTicket.get(ticket) ?? 0) + 1);
      if (!this.created.has(ticket)) this.created.set(ticket, performance.now());
    }
    if (ended(job)) {
      this.unended.delete(name);
      this.seenEnd(name);
    } else if (!this.endedAt.has(name)) {
      this.unended.add(name);
      this.maxUnended = Math.max(this.maxUnended, this.unended.size);
    }
  }

  private seenEnd(name: string): void {
    if (!name || this.endedAt.has(name)) return;
    this.endedAt.set(name, performance.now());
    const ready = this.waiters.filter((w) => this.endedAt.size >= w.count);
    this.waiters = this.waiters.filter((w) => this.endedAt.size < w.count);
    for (const waiter of ready) waiter.resolve();
  }
}
