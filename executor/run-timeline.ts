/**
 * The moments of one run as this executor sees them (contract/timeline.ts): each is written to the
 * record once, the first time this run sees it, and the record keeps the first time any run did.
 * A moment is worth one write and never worth failing the run: a write that fails is logged, not
 * retried. The Kubernetes phases are observed here too, once per operation: a pod's start when this
 * run created its Job and saw its script start, an image pull when this run was first to record it.
 */
import type { RunMoment } from '../core/contract/timeline.js';
import type { Logger } from '../core/logger.js';
import type { OperationRef } from '../core/keys.js';
import type { ExecutorMetrics } from '../core/metrics.js';
import type { OperationStore } from '../core/operation-store.js';

export interface RunTimelineDependencies {
  store: Pick<OperationStore, 'moment'>;
  metrics: Pick<ExecutorMetrics, 'podStartSeconds' | 'imagePullSeconds'>;
  logger: Logger;
}

export class RunTimeline {
  private readonly seen = new Map<RunMoment['name'], number>();

  constructor(
    private readonly op: OperationRef,
    private readonly deps: RunTimelineDependencies,
  ) {}

  /** A runtime saw `moment` (RunContext.moment). */
  moment(moment: RunMoment, at = Date.now()): void {
    if (this.seen.has(moment.name)) return;
    this.seen.set(moment.name, at);
    void this.deps.store.moment(this.op, moment, at).then(
      (written) => {
        if (written && moment.name === 'imagePulled') this.deps.metrics.imagePullSeconds.observe({ pool: this.op.pool }, moment.pullSeconds);
      },
      (error: unknown) => this.deps.logger.debug({ err: error, ticket: this.op.ticket, moment: moment.name }, 'could not record a moment of the timeline'),
    );
  }

  /** The script started in this run (the record's `startedAt`, written by markRunning): its pod started, when this run created its Job. */
  started(at: number): void {
    const created = this.seen.get('jobCreated');
    if (created !== undefined) this.deps.metrics.podStartSeconds.observe({ pool: this.op.pool }, Math.max(0, at - created) / 1000);
  }
}
