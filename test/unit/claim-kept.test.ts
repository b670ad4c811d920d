import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import type { Claim } from '../../core/operation-store.js';
import { keepClaim } from '../../executor/claim-kept.js';
import { UNCONFIRMED_TRIES } from '../../executor/record-result.js';

const log = createLogger('silent', 'test');
const claimed = (again: boolean): Claim => ({ kind: 'claimed', payload: '{}', cancelRequested: false, queuedAt: 0, again });
const reclaimed = (previousDelivery: string): Claim => ({
  kind: 'reclaimed',
  payload: '{}',
  cancelRequested: false,
  previousState: 'pending',
  previousExecutor: 'e',
  previousDelivery,
});

/** A Redis failing over: what a command sent meanwhile gets. */
const away = new Error('Connection is closed.');

/**
 * keepClaim with `confirms` answered in turn by the replicas (the last one from then on) and
 * `claims` by each claim asked again; an Error among them is thrown instead.
 */
async function keep(confirms: Array<boolean | Error>, claims: Array<Claim | Error>, signal = new AbortController().signal) {
  const asked = { confirms: 0, claims: 0 };
  const answer = <T>(reply: T | Error): T => {
    if (reply instanceof Error) throw reply;
    return reply;
  };
  const kept = await keepClaim(
    'default',
    'd1',
    async () => answer(claims[asked.claims++]!),
    { confirm: async () => answer(confirms[Math.min(asked.confirms++, confirms.length - 1)]!) },
    log,
    signal,
  );
  return { kept, ...asked };
}

describe('a claim kept before its script starts', () => {
  it("is this run's once a replica confirmed it and the primary still has it", async () => {
    expect(await keep([true], [claimed(true)])).toEqual({ kept: true, confirms: 1, claims: 1 });
  });

  it('is asked again until a replica confirms it', async () => {
    expect(await keep([false, false, true], [claimed(true)])).toEqual({ kept: true, confirms: 3, claims: 1 });
  });

  it('made anew where a failover lost it is confirmed again before it counts', async () => {
    expect(await keep([true, true], [claimed(false), claimed(true)])).toEqual({ kept: true, confirms: 2, claims: 2 });
  });

  it("taken over by this delivery is this run's", async () => {
    expect(await keep([true], [reclaimed('d1')])).toEqual({ kept: true, confirms: 1, claims: 1 });
  });

  it.each<[string, Claim]>([
    ['another delivery claimed it on the new primary', reclaimed('d2')],
    ['it ended meanwhile (cancelled)', { kind: 'terminal', state: 'cancelled', executor: undefined }],
    ['it was released', { kind: 'missing' }],
  ])("is not this run's when %s", async (_, claim) => {
    expect((await keep([true], [claim])).kept).toBe(false);
  });

  it('waits for replicas that stay away only so long, then starts the script', async () => {
    expect(await keep([false], [])).toEqual({ kept: true, confirms: UNCONFIRMED_TRIES, claims: 0 });
  });

  it('is confirmed and asked again, both, when Redis cannot answer either', async () => {
    expect(await keep([away, true], [away, claimed(true)])).toEqual({ kept: true, confirms: 3, claims: 2 });
  });

  it('stops waiting when the run is cancelled while Redis is away', async () => {
    const cancelled = new AbortController();
    setTimeout(() => cancelled.abort('cancel'), 100);
    expect((await keep([away], [], cancelled.signal)).kept).toBe(true);
    expect(cancelled.signal.aborted).toBe(true);
  });

  it('stops waiting at once when the run is cancelled', async () => {
    const cancelled = new AbortController();
    cancelled.abort('cancel');
    expect(await keep([false], [], cancelled.signal)).toEqual({ kept: true, confirms: 0, claims: 0 });
  });
});
