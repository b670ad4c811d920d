/**
 * One watch on the script pods of one kube-worker instance: the most that existed at once without
 * having ended (Pending or Running). One stream, so its events come in the order the API server
 * stored them: an executor that takes its next operation only once it has seen a pod end can never
 * make this count exceed its concurrency, however late the watch runs. It also notes when each
 * ticket's pod was first seen running and ended (this process's clock).
 */
import * as k8s from '@kubernetes/client-node';
import { instanceSelector, LABEL_TICKET } from '../../executor/kubernetes/names.js';

const ended = (pod: k8s.V1Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

export class PodWatch {
  /** The most pods not yet ended at once. */
  maxUnended = 0;
  /** Pods seen Pending (not yet running) at once, at most. */
  maxPending = 0;
  /** Ticket (its label) → when its pod was first seen, seen running, and ended, ms (performance.now()). */
  readonly madeAt = new Map<string, number>();
  readonly runningAt = new Map<string, number>();
  readonly endedAt = new Map<string, number>();
  private readonly unended = new Set<string>();
  private readonly pending = new Set<string>();
  private readonly informer: k8s.Informer<k8s.V1Pod> & k8s.ObjectCache<k8s.V1Pod>;

  constructor(kubeConfig: k8s.KubeConfig, namespace: string, instance: string) {
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    const labelSelector = instanceSelector(instance);
    this.informer = k8s.makeInformer(
      kubeConfig,
      `/api/v1/namespaces/${namespace}/pods`,
      () => core.listNamespacedPod({ namespace, labelSelector }),
      labelSelector,
    );
    this.informer.on('add', (pod) => this.seen(pod));
    this.informer.on('update', (pod) => this.seen(pod));
    this.informer.on('delete', (pod) => this.gone(pod.metadata?.uid ?? ''));
    this.informer.on('error', () => setTimeout(() => void this.informer.start().catch(() => undefined), 1000));
  }

  start(): Promise<void> {
    return this.informer.start();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  private seen(pod: k8s.V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const ticket = pod.metadata?.labels?.[LABEL_TICKET];
    if (ticket && !this.madeAt.has(ticket)) this.madeAt.set(ticket, performance.now());
    if (ticket && pod.status?.phase !== 'Pending' && !this.runningAt.has(ticket)) this.runningAt.set(ticket, performance.now());
    if (ticket && ended(pod) && !this.endedAt.has(ticket)) this.endedAt.set(ticket, performance.now());
    if (ended(pod) || pod.metadata?.deletionTimestamp) return this.gone(uid);
    this.unended.add(uid);
    if (pod.status?.phase === 'Running') this.pending.delete(uid);
    else this.pending.add(uid);
    this.maxUnended = Math.max(this.maxUnended, this.unended.size);
    this.maxPending = Math.max(this.maxPending, this.pending.size);
  }

  private gone(uid: string): void {
    this.unended.delete(uid);
    this.pending.delete(uid);
  }
}
