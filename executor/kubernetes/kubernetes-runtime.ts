/**
 * The kubernetes runtime: each operation is one Job (and its Secret) in the executor's namespace.
 * Names come from the instance and the ticket, so a redelivered operation adopts the Job it already
 * has — an AlreadyExists is an adoption, never a second Job — and the script runs once. A Job is
 * adopted only when its labels say it is this instance's, for this ticket; another deployment's
 * Job in the same namespace is never followed, resumed or deleted.
 */
import type * as k8s from '@kubernetes/client-node';
import { packageSpecs } from '../../core/package-layout.js';
import type { Logger } from '../../core/logger.js';
import { outcomes, type Outcome } from '../../core/contract/outcomes.js';
import type { RunContext, RunOutcome, Runtime } from '../runtime.js';
import type { ClusterWatch } from './cluster-watch.js';
import { deleteJob, ignoreNotFound } from './job-deletion.js';
import { buildScriptJob, secretOwnedBy, type ScriptPodSettings } from './job-spec.js';
import { superviseJob, type SupervisorSettings } from './job-supervisor.js';
import { KubeApiError, type KubeApi } from './kube-api.js';
import { ANNOTATION_TICKET, jobName, LABEL_INSTANCE, LABEL_TICKET, ticketLabel } from './names.js';
import { resumePoint } from './pod-log.js';
import { claimWarmJob, deliverPayload } from './warm-bind.js';
import { fitsWarmPod, LABEL_WARM, warmPayload } from './warm-pod-spec.js';
import type { WarmPool } from './warm-pool.js';

export type KubernetesRuntimeSettings = ScriptPodSettings & SupervisorSettings;

export class KubernetesRuntime implements Runtime {
  readonly name = 'kubernetes';
  readonly handsBackOnShutdown = true;
  /** Tickets whose Job name is taken by an object that is not theirs: release must leave it alone. */
  private readonly foreign = new Set<string>();
  /** Tickets running in a warm pod, and its Job's name (not derived from the ticket). */
  private readonly warmJobs = new Map<string, string>();

  constructor(
    private readonly api: KubeApi,
    private readonly watch: ClusterWatch,
    private readonly settings: KubernetesRuntimeSettings,
    private readonly logger: Logger,
    private readonly stopSweeper: () => void,
    private readonly warm?: WarmPool,
  ) {}

  async run(context: RunContext): Promise<RunOutcome> {
    if (packageSpecs(context.request.packages).length > 0 && !this.settings.fetchImage) {
      return outcomes.runtimeError(
        "This operation has packages, and this executor has no image to fetch them with: set KUBE_WORKER_FETCH_IMAGE to kube-worker's own image (the chart does)",
      );
    }
    if (this.warm && fitsWarmPod(context.request)) {
      const bound = await this.runWarm(context, this.warm);
      if (bound) return bound;
    }
    const created = await this.create(context);
    if ('state' in created) return created;
    return this.supervise(context, created.name);
  }

  /**
   * Binds a ready warm pod of the operation's pool, sends it the operation and supervises its Job
   * as any other; undefined when none could be claimed (the operation takes the cold path).
   */
  private async runWarm(context: RunContext, pool: WarmPool): Promise<RunOutcome | undefined> {
    for (let candidate = pool.take(context.request.pool); candidate; candidate = pool.take(context.request.pool)) {
      if (!(await claimWarmJob(this.api, candidate.jobName, candidate.startedAt, context.ticket, context.timeoutSeconds))) continue;
      this.warmJobs.set(context.ticket, candidate.jobName);
      context.output.system(`Bound warm pod ${candidate.podName} (Job ${candidate.jobName} in namespace ${this.api.namespace})`);
      // Following the pod from now on, its first line is read the moment the operation reaches it.
      const supervised = this.supervise(context, candidate.jobName);
      const undelivered = await this.deliver(context, candidate.podName);
      const outcome = await supervised;
      // A cancel deletes the pod the operation was on its way to, and a shutdown hands it back:
      // what ended the run then is the supervision's to say, not the delivery it cut short.
      return context.signal.aborted ? outcome : (undelivered ?? outcome);
    }
    return undefined;
  }

  /**
   * Sends the operation down the warm pod's stdin, trying again a few times; when it never got
   * there, the Job is deleted (its supervision ends) and this is the outcome instead. A cancel or a
   * shutdown stops the tries: the supervision has the run's end then.
   */
  private async deliver(context: RunContext, podName: string): Promise<Outcome | undefined> {
    const payload = warmPayload(context.ticket, context.request);
    let last: unknown;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        return void (await deliverPayload(this.api, podName, payload));
      } catch (error) {
        if (context.signal.aborted) return undefined;
        last = error;
        this.logger.warn({ err: error, ticket: context.ticket, pod: podName }, 'could not send the operation to its warm pod');
      }
    }
    await this.release(context.ticket).catch(() => undefined);
    return outcomes.warmPayloadUndelivered(`it could not be sent to pod ${podName}: ${(last as Error).message}`);
  }

  async adopt(context: RunContext): Promise<RunOutcome> {
    const name = jobName(this.settings.instance, context.ticket);
    const existing = await this.api.call('get', () => this.api.batch.readNamespacedJob({ name, namespace: this.api.namespace })).catch(ignoreNotFound);
    if (existing && !this.belongs(existing, context.ticket)) return this.refuseForeign(context.ticket, name);
    if (!existing) {
      const warm = await this.adoptWarm(context);
      if (warm) return warm;
    }
    // Suspended: the last executor stopped between creating the Job and starting it; finish that.
    if (existing?.spec?.suspend) return this.run(context);
    if (existing) {
      context.output.system(`Executor restarted: following Job ${name} again`);
      return this.supervise(context, name);
    }
    if (context.previousState === 'running') return outcomes.jobGone(name);
    return this.run(context);
  }

  /**
   * A warm Job claimed for this ticket by an executor that was lost: its payload is sent again —
   * harmless if it already arrived, since the pod's stdin takes one session only — and it is
   * supervised as any other.
   */
  private async adoptWarm(context: RunContext): Promise<RunOutcome | undefined> {
    const labelSelector = `${LABEL_INSTANCE}=${this.settings.instance},${LABEL_WARM}=bound,${LABEL_TICKET}=${ticketLabel(context.ticket)}`;
    const jobs = await this.api.call('list', () => this.api.batch.listNamespacedJob({ namespace: this.api.namespace, labelSelector }));
    const job = jobs.items.find((j) => this.belongs(j, context.ticket));
    if (!job) return undefined;
    const name = job.metadata!.name!;
    this.warmJobs.set(context.ticket, name);
    context.output.system(`Executor restarted: following warm Job ${name} again`);
    const podName = this.watch.podOf(name);
    if (podName) await deliverPayload(this.api, podName, warmPayload(context.ticket, context.request)).catch(() => undefined);
    return this.supervise(context, name);
  }

  /** The Job suspended, then its Secret owned by it, then the Job resumed; each step already done is adopted. */
  private async create(context: RunContext): Promise<{ name: string } | Outcome> {
    const { name, job, secret } = buildScriptJob(context.ticket, context.request, context.timeoutSeconds, this.settings);
    const { namespace } = this.api;
    try {
      const created = await this.api
        .call('create', () => this.api.batch.createNamespacedJob({ namespace, body: job }), 'starts')
        .catch(async (error: unknown) => {
          adoptExisting(error);
          return this.api.call('get', () => this.api.batch.readNamespacedJob({ name, namespace }));
        });
      if (!this.belongs(created, context.ticket)) return this.refuseForeign(context.ticket, name);
      await this.api.call('create', () => this.api.core.createNamespacedSecret({ namespace, body: secretOwnedBy(secret, created) })).catch(adoptExisting);
      if (created.spec?.suspend) {
        await this.api.call('patch', () =>
          this.api.batch.patchNamespacedJob({ name, namespace, body: [{ op: 'replace', path: '/spec/suspend', value: false }] }),
        );
      }
    } catch (error) {
      const refused = error instanceof KubeApiError && !error.retryable;
      if (!refused) throw error;
      await this.release(context.ticket).catch(() => undefined);
      return outcomes.jobRefused(error.message);
    }
    context.moment({ name: 'jobCreated' });
    context.output.system(`Created Job ${name} in namespace ${namespace} (image ${job.spec!.template.spec!.containers[0]!.image})`);
    return { name };
  }

  /** Whether a Job is this instance's, for this ticket. */
  private belongs(job: k8s.V1Job, ticket: string): boolean {
    return job.metadata?.labels?.[LABEL_INSTANCE] === this.settings.instance && job.metadata?.annotations?.[ANNOTATION_TICKET] === ticket;
  }

  private refuseForeign(ticket: string, name: string): Outcome {
    this.foreign.add(ticket);
    return outcomes.runtimeError(`Job ${name} in namespace ${this.api.namespace} belongs to another deployment or operation; it was left alone`);
  }

  private async supervise(context: RunContext, name: string): Promise<RunOutcome> {
    // An adopted run goes on from what the executor that started it stored of each log.
    const from = resumePoint(context.storedOrigin);
    const readFetchLog = packageSpecs(context.request.packages).length > 0 && !from.fetchRead;
    return superviseJob({
      api: this.api,
      watch: this.watch,
      jobName: name,
      context,
      settings: this.settings,
      cursor: from.script,
      readFetchLog,
      fetchCursor: from.fetch,
      logger: this.logger.child({ ticket: context.ticket, job: name }),
    });
  }

  /**
   * Deletes the Job; what is already gone is fine. Its pods and its Secret go with it: the garbage
   * collector follows their owner references, and a Secret is only ever made owned by its Job.
   */
  async release(ticket: string): Promise<void> {
    if (this.foreign.delete(ticket)) return;
    const warm = this.warmJobs.get(ticket);
    this.warmJobs.delete(ticket);
    await deleteJob(this.api, warm ?? jobName(this.settings.instance, ticket), 'released');
  }

  async close(): Promise<void> {
    await this.warm?.close();
    this.stopSweeper();
    await this.watch.stop();
  }
}

/** An AlreadyExists is ours from an earlier delivery: adopt it. */
function adoptExisting(error: unknown): void {
  if (!(error instanceof KubeApiError) || error.status !== 409) throw error;
}
