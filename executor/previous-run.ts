/**
 * An operation delivered again while its previous executor may still be running it. BullMQ hands a
 * job to another worker (or the same one) once its lock was not renewed for `lockDuration`: after
 * a crash, but also after a Redis outage or an executor pause longer than that, when the script
 * still runs. Taking it as lost then would record ExecutorLost for a script that goes on, and free
 * its mutex while it runs. So the executor it is delivered to first waits: while the previous
 * executor still lists it in its heartbeat (or is this very executor, still running it), the run is
 * that executor's, and once the record is final there is nothing left to do.
 *
 * The previous executor counts as gone once it has not listed the operation for the registry's
 * stale window while Redis was reachable: counted from its last listing, or from when this
 * executor last connected to Redis if that is later — after an outage both reconnect, and the
 * previous executor gets a whole window to beat again.
 */
import { isTerminal } from '../core/contract/status.js';
import { delay } from '../core/delay.js';
import { STALE_AFTER_MS, type ExecutorRegistry } from '../core/executor-registry.js';
import type { OperationRef } from '../core/keys.js';
import type { OperationStore } from '../core/operation-store.js';

/**
 * `ended`: the previous executor recorded the outcome. `gone`: it is no longer running it.
 * `closing`: this executor stops; the operation goes back to the queue, still the previous executor's.
 */
export type PreviousRun = 'ended' | 'gone' | 'closing';

export interface PreviousRunDependencies {
  executorId: string;
  store: OperationStore;
  registry: ExecutorRegistry;
  /** Whether this executor is running the operation (its first delivery, still under way). */
  runningHere(ticket: string): boolean;
  /** When this executor's Redis connection was last (re)established (ms). */
  connectedSince(): number;
  /** Aborted when this executor stops. */
  closing: AbortSignal;
  pollMs?: number;
}

export async function awaitPreviousRun(op: OperationRef, previousExecutor: string, deps: PreviousRunDependencies): Promise<PreviousRun> {
  const { ticket } = op;
  for (;;) {
    const state = await deps.store.state(op);
    if (state === undefined || isTerminal(state)) return 'ended';
    if (previousExecutor === deps.executorId) {
      if (!deps.runningHere(ticket)) return 'gone';
    } else {
      const said = await deps.registry.lastRunning(previousExecutor, ticket);
      if (Date.now() - Math.max(said ?? 0, deps.connectedSince()) > STALE_AFTER_MS) return 'gone';
    }
    if (deps.closing.aborted) return 'closing';
    await delay(deps.pollMs ?? 500, deps.closing);
  }
}
