/**
 * One watch per executor, never one per operation: informers for the script pods and Jobs of this
 * instance only (selected by its label), and one for the namespace's events. Each operation
 * subscribes by Job name and hears only about its own objects. An informer that fails is restarted with backoff; the informer
 * re-lists by itself when its resource version has expired (410).
 */
import * as k8s from '@kubernetes/client-node';
import { backoffMs } from '../../core/delay.js';
import type { Logger } from '../../core/logger.js';
import { EventsByJob } from './events-by-job.js';
import type { KubeApi } from './kube-api.js';
import { instanceSelector, LABEL_JOB } from './names.js';

export interface JobListener {
  pod(pod: k8s.V1Pod): void;
  podDeleted(pod: k8s.V1Pod): void;
  job(job: k8s.V1Job): void;
  jobDeleted(job: k8s.V1Job): void;
  event(event: k8s.CoreV1Event): void;
}

/** A Job's pod is named after it, with a suffix of five: `<job>-abcde`. */
const jobOfPodName = (podName: string): string => podName.replace(/-[a-z0-9]{5}$/, '');

type AnyInformer = k8s.Informer<k8s.KubernetesObject> & k8s.ObjectCache<k8s.KubernetesObject>;

export class ClusterWatch {
  private readonly listeners = new Map<string, JobListener>();
  private readonly informers: AnyInformer[] = [];
  private pods!: k8s.Informer<k8s.V1Pod> & k8s.ObjectCache<k8s.V1Pod>;
  private jobs!: k8s.Informer<k8s.V1Job> & k8s.ObjectCache<k8s.V1Job>;
  private readonly eventsByJob = new EventsByJob();
  private stopped = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly api: KubeApi,
    private readonly instance: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const { namespace } = this.api;
    const labelSelector = instanceSelector(this.instance);
    this.pods = this.informer<k8s.V1Pod>('pods', `/api/v1/namespaces/${namespace}/pods`, labelSelector, () =>
      this.api.core.listNamespacedPod({ namespace, labelSelector }),
    );
    this.jobs = this.informer<k8s.V1Job>('jobs', `/apis/batch/v1/namespaces/${namespace}/jobs`, labelSelector, () =>
      this.api.batch.listNamespacedJob({ namespace, labelSelector }),
    );
    const events = this.informer<k8s.CoreV1Event>('events', `/api/v1/namespaces/${namespace}/events`, undefined, () =>
      this.api.core.listNamespacedEvent({ namespace }),
    );
    const route = <T extends k8s.KubernetesObject>(object: T, labelOf: (o: T) => string | undefined): JobListener | undefined => {
      const name = labelOf(object);
      return name ? this.listeners.get(name) : undefined;
    };
    const jobOfPod = (pod: k8s.V1Pod): string | undefined => pod.metadata?.labels?.[LABEL_JOB];
    const jobOfJob = (job: k8s.V1Job): string | undefined => job.metadata?.labels?.[LABEL_JOB];
    this.pods.on('add', (pod) => {
      this.refileEvents(pod);
      route(pod, jobOfPod)?.pod(pod);
    });
    this.pods.on('update', (pod) => route(pod, jobOfPod)?.pod(pod));
    this.pods.on('delete', (pod) => route(pod, jobOfPod)?.podDeleted(pod));
    this.jobs.on('add', (job) => route(job, jobOfJob)?.job(job));
    this.jobs.on('update', (job) => route(job, jobOfJob)?.job(job));
    this.jobs.on('delete', (job) => route(job, jobOfJob)?.jobDeleted(job));
    const onEvent = (event: k8s.CoreV1Event): void => {
      const job = this.jobOfEvent(event);
      this.eventsByJob.put(event, job);
      if (job !== undefined && this.isCurrent(event)) this.listeners.get(job)?.event(event);
    };
    events.on('add', onEvent);
    events.on('update', onEvent);
    events.on('delete', (event) => this.eventsByJob.remove(event));
    await Promise.all(this.informers.map((informer) => informer.start()));
  }

  /** Events from before this executor started were reported by the one before it. */
  private isCurrent(event: k8s.CoreV1Event): boolean {
    const seen = new Date(event.lastTimestamp ?? event.eventTime ?? event.metadata?.creationTimestamp ?? 0).getTime();
    return seen >= this.startedAt - 1000;
  }

  /** The Job an event is about: its own, or its pod's (from the pod's label, or else its name). */
  private jobOfEvent(event: k8s.CoreV1Event): string | undefined {
    const { kind, name } = event.involvedObject;
    if (!name) return undefined;
    if (kind === 'Job') return name;
    if (kind !== 'Pod') return undefined;
    return this.pods.get(name, this.api.namespace)?.metadata?.labels?.[LABEL_JOB] ?? jobOfPodName(name);
  }

  /**
   * A pod's events seen before the pod were filed by its name, which a long Job name cuts short:
   * they go to its Job now, and to the Job's subscriber, which could not hear of them then.
   */
  private refileEvents(pod: k8s.V1Pod): void {
    const name = pod.metadata?.name;
    const job = pod.metadata?.labels?.[LABEL_JOB];
    if (!name || !job || job === jobOfPodName(name)) return;
    const listener = this.listeners.get(job);
    for (const event of this.eventsByJob.refile(name, jobOfPodName(name), job)) if (this.isCurrent(event)) listener?.event(event);
  }

  private informer<T extends k8s.KubernetesObject>(
    kind: string,
    path: string,
    labelSelector: string | undefined,
    list: () => Promise<k8s.KubernetesListObject<T>>,
  ): k8s.Informer<T> & k8s.ObjectCache<T> {
    const informer = k8s.makeInformer<T>(this.api.kubeConfig, path, () => this.api.call('list', list), labelSelector);
    let failures = 0;
    informer.on('connect', () => {
      this.api.count('watch', 200);
      failures = 0;
    });
    informer.on('error', (error) => {
      if (this.stopped) return;
      const wait = backoffMs(failures, 500, 30_000);
      failures += 1;
      this.logger.warn({ err: error, kind }, `watch of ${kind} failed; restarting in ${wait}ms`);
      setTimeout(() => {
        if (!this.stopped) informer.start().catch((err: unknown) => this.logger.warn({ err, kind }, 'watch restart failed'));
      }, wait).unref();
    });
    this.informers.push(informer as unknown as AnyInformer);
    return informer;
  }

  /** Listens to one Job's objects, and replays what is already known of them. */
  subscribe(jobName: string, listener: JobListener): () => void {
    this.listeners.set(jobName, listener);
    const job = this.jobs.get(jobName, this.api.namespace);
    if (job) listener.job(job);
    for (const pod of this.pods.list(this.api.namespace)) if (pod.metadata?.labels?.[LABEL_JOB] === jobName) listener.pod(pod);
    // The pod may have been scheduled (or not) before this subscription: those events count too.
    for (const event of this.eventsByJob.of(jobName)) if (this.isCurrent(event)) listener.event(event);
    return () => {
      if (this.listeners.get(jobName) === listener) this.listeners.delete(jobName);
    };
  }

  /** The name of a Job's pod, as the watch last saw it. */
  podOf(jobName: string): string | undefined {
    return this.pods.list(this.api.namespace).find((pod) => pod.metadata?.labels?.[LABEL_JOB] === jobName)?.metadata?.name;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.informers.map((informer) => informer.stop()));
  }
}
