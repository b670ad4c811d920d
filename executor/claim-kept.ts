/**
 * A claim is on a replica before its script starts. A failover that took the claim from the
 * primary would leave the operation queued on the new one: it would be delivered again as never
 * claimed and its script run twice, or the first run's result be fenced off and the operation
 * never end. So, when the primary has replicas, the executor waits for one to confirm the claim,
 * as the dispatcher does before it answers 202 (core/replica-acks.ts).
 *
 * A confirmation covers what the primary it went to had; after a failover that is not the primary
 * the claim went to. So the claim is asked again once confirmed: the same delivery asking again
 * writes nothing where its claim is, and there it was kept; it claims anew where the claim was
 * lost (core/lua/claim-2.lua), and that write is confirmed in turn. A claim that another delivery
 * or a result has taken meanwhile is not this run's any more.
 *
 * Replicas that stay away delay the start only so long, as they delay a result (record-result.ts);
 * a cancel stops the wait at once, and the run then ends cancelled.
 */
import type { Logger } from '../core/logger.js';
import type { Claim } from '../core/operation-store.js';
import { untilRedisAnswers } from '../core/redis-retry.js';
import type { ReplicaAcks } from '../core/replica-acks.js';
import { UNCONFIRMED_TRIES } from './record-result.js';

/** What a claim's reply says of `delivery`'s claim: kept, made anew, or not this run's. */
function claimOf(claim: Claim, delivery: string): 'kept' | 'new' | 'not ours' {
  if (claim.kind === 'claimed') return claim.again ? 'kept' : 'new';
  return claim.kind === 'reclaimed' && claim.previousDelivery === delivery ? 'kept' : 'not ours';
}

/** Whether the run is still this delivery's once its claim is kept (or waited for long enough). */
export async function keepClaim(
  pool: string,
  delivery: string,
  claimAgain: () => Promise<Claim>,
  replicas: Pick<ReplicaAcks, 'confirm'>,
  log: Logger,
  signal: AbortSignal,
): Promise<boolean> {
  // Confirmed, then asked again, as one step: an outage between the two means asking both again.
  const confirmedClaim = async (): Promise<'kept' | 'new' | 'not ours' | 'unconfirmed'> =>
    (await replicas.confirm(pool)) ? claimOf(await claimAgain(), delivery) : 'unconfirmed';
  for (let tries = 0; tries < UNCONFIRMED_TRIES && !signal.aborted; tries += 1) {
    let claim;
    try {
      claim = await untilRedisAnswers(confirmedClaim, { log, doing: 'confirm the claim', signal });
    } catch (error) {
      if (signal.aborted) break; // cancelled while Redis was away: the run ends cancelled
      throw error;
    }
    if (claim === 'kept' || claim === 'not ours') return claim === 'kept';
    log.warn(
      claim === 'new'
        ? 'the claim was lost in a failover and is made again; waiting for a replica to confirm it'
        : 'no replica confirmed the claim yet; the script waits for one',
    );
  }
  if (!signal.aborted) log.warn('no replica confirmed the claim; starting the script: a failover now could run it again');
  return true;
}
