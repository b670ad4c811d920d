/**
 * The one place a final state is written: the run's lines are stored, then the record takes the
 * result and the line that says it (OperationStore.recordResult), fenced by the delivery that owns
 * the run. process-operation.ts decides the outcome; this file only makes it stick.
 *
 * The result is kept trying while Redis cannot take it (restarting, failing over): a result given
 * up on would leave its operation running for ever. Log lines that cannot be stored do not stop it.
 * A result the primary took is written again until a replica has it too (a failover then keeps
 * it; finish is the same command for the same delivery, so a second write changes nothing), for a
 * while: a primary whose replicas stay away only delays the executor so long.
 */
import type { Outcome } from '../core/contract/outcomes.js';
import type { Logger } from '../core/logger.js';
import type { ExecutorMetrics } from '../core/metrics.js';
import type { OperationStore, RecordReply } from '../core/operation-store.js';
import { untilRedisAnswers } from '../core/redis-retry.js';
import type { ReplicaAcks } from '../core/replica-acks.js';
import type { ScriptOutput } from './output/script-output.js';

/** What recording needs of the executor (a part of process-operation.ts's ProcessDependencies). */
export interface RecordDependencies {
  store: Pick<OperationStore, 'recordResult'>;
  /** Whether the primary's replicas have what was written so far (core/replica-acks.ts). */
  replicas: Pick<ReplicaAcks, 'confirm'>;
  logger: Logger;
  metrics: ExecutorMetrics;
  settings: { retentionSeconds: number };
}

/** Which run a result is for: the operation and the delivery that owns it ('' for whichever does). */
export interface RunIdentity {
  ticket: string;
  pool: string;
  delivery: string;
}

/** Tries at a result (or a claim, claim-kept.ts) that the primary took but no replica confirmed, before the executor moves on. */
export const UNCONFIRMED_TRIES = 12;

/** Seconds from `from` to `to` (ms), never negative: clocks of two machines may disagree a little. */
export const secondsBetween = (from: number, to: number): number => Math.max(0, to - from) / 1000;

/**
 * Records `outcome` for the run, counts it and says it in the executor's log. `runningSince`: when
 * this executor saw the script start (undefined for a run it did not see start), for the run time.
 * The reply is what this delivery's first write did: `ended` or `fenced` when another result stands.
 */
export async function recordResult(
  { ticket, pool, delivery }: RunIdentity,
  outcome: Outcome,
  output: Pick<ScriptOutput, 'close' | 'outputVariables'>,
  deps: RecordDependencies,
  runningSince: number | undefined,
): Promise<RecordReply> {
  const log = deps.logger.child({ ticket });
  await output.close().catch((error: unknown) => log.warn({ err: error }, 'could not store the last log lines; recording the result'));
  const result = { ...outcome, outputVariables: output.outputVariables };
  // The write and its confirmation are retried together: after a failover the confirmation is the
  // new primary's, which may not have the write the old one took.
  const writeKept = async (): Promise<{ reply: RecordReply; kept: boolean }> => {
    const reply = await deps.store.recordResult({ ticket, pool }, delivery, result, deps.settings.retentionSeconds);
    return { reply, kept: reply === 'ended' || reply === 'fenced' || (await deps.replicas.confirm(pool)) };
  };
  let recorded: RecordReply | undefined;
  for (let unconfirmed = 0; ;) {
    const { reply, kept } = await untilRedisAnswers(writeKept, { log, doing: 'take the result' });
    // The first reply says what this delivery did; a write again only makes sure it is kept.
    recorded ??= reply;
    if (kept) break;
    unconfirmed += 1;
    if (unconfirmed >= UNCONFIRMED_TRIES) {
      log.warn('no replica confirmed the result; a failover now could lose it');
      break;
    }
    log.warn('no replica confirmed the result yet; writing it again');
  }
  if (recorded === 'ended' || recorded === 'fenced') {
    log.warn(recorded === 'ended' ? 'the operation had already ended; its first result stands' : 'another delivery took this run over; its result stands');
    return recorded;
  }
  deps.metrics.operations.inc({ pool, outcome: outcome.state, reason: outcome.failure?.reason ?? '' });
  deps.metrics.logLines.inc({ pool, stream: 'system' }); // the line saying the outcome, stored with the result
  if (runningSince !== undefined) deps.metrics.runSeconds.observe({ pool, outcome: outcome.state }, secondsBetween(runningSince, Date.now()));
  log.info({ state: outcome.state, exitCode: outcome.exitCode, reason: outcome.failure?.reason }, 'operation finished');
  return recorded;
}
