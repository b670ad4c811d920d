/**
 * The log streams (SSE follows) a dispatcher serves: each holds a Redis connection of its own, so
 * there are at most `max` at once, and shutdown ends them all rather than wait for them.
 */
import { KubeWorkerError } from '../core/errors.js';

export class Follows {
  private readonly active = new Set<() => void>();

  constructor(readonly max: number) {}

  /** Registers a follow that `stop` ends; throws a 503 problem when the dispatcher serves `max`. */
  enter(stop: () => void): () => void {
    if (this.active.size >= this.max) {
      throw new KubeWorkerError(
        'KW_ERR_TOO_MANY_FOLLOWS',
        `this dispatcher already streams ${this.max} logs (KUBE_WORKER_MAX_FOLLOWS); retry shortly, or read the status with afterSequence instead`,
      );
    }
    this.active.add(stop);
    return () => this.active.delete(stop);
  }

  get size(): number {
    return this.active.size;
  }

  /** Ends every follow; their clients reconnect (to another replica) with Last-Event-ID. */
  stopAll(): void {
    for (const stop of this.active) stop();
    this.active.clear();
  }
}
