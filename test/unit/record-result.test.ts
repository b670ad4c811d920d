import { describe, expect, it } from 'vitest';
import { outcomes } from '../../core/contract/outcomes.js';
import { createLogger } from '../../core/logger.js';
import { createExecutorMetrics, createProcessMetrics } from '../../core/metrics.js';
import type { RecordReply } from '../../core/operation-store.js';
import { recordResult, type RecordDependencies } from '../../executor/record-result.js';

const RUN = { ticket: 't1', pool: 'default', delivery: 'd1' };

/** A store answering each write with the next of `replies` (an Error is thrown), and replicas answering `confirms` in turn. */
function fixture(replies: Array<RecordReply | Error>, confirms: boolean[] = []) {
  const writes: unknown[] = [];
  let closed = 0;
  const metrics = createExecutorMetrics(createProcessMetrics());
  const deps: RecordDependencies = {
    store: {
      async recordResult(_ticket, _delivery, result) {
        writes.push(result);
        const reply = replies.shift() ?? 'again';
        if (reply instanceof Error) throw reply;
        return reply;
      },
    },
    replicas: { confirm: async () => confirms.shift() ?? true },
    logger: createLogger('silent', 'test'),
    metrics,
    settings: { retentionSeconds: 60 },
  };
  const output = {
    outputVariables: { A: { value: '1', sensitive: false } },
    async close() {
      closed += 1;
    },
  };
  const counted = async (): Promise<number> => (await metrics.operations.get()).values.reduce((sum, v) => sum + v.value, 0);
  return { deps, output, writes, counted, closed: () => closed };
}

describe('recording a result', () => {
  it('stores the last lines, then writes the result with its output variables once a replica has it, and counts it', async () => {
    const f = fixture(['recorded']);
    expect(await recordResult(RUN, outcomes.scriptFailed(3), f.output, f.deps, Date.now())).toBe('recorded');
    expect(f.closed()).toBe(1);
    expect(f.writes).toEqual([{ ...outcomes.scriptFailed(3), outputVariables: { A: { value: '1', sensitive: false } } }]);
    expect(await f.counted()).toBe(1);
  });

  it('keeps trying while Redis is unavailable, and gives up at once on any other error', async () => {
    const f = fixture([new Error('connect ECONNREFUSED 127.0.0.1:6379'), 'recorded']);
    expect(await recordResult(RUN, outcomes.succeeded(), f.output, f.deps, undefined)).toBe('recorded');
    expect(f.writes).toHaveLength(2);

    const broken = fixture([new Error('ERR wrong number of arguments')]);
    await expect(recordResult(RUN, outcomes.succeeded(), broken.output, broken.deps, undefined)).rejects.toThrow('ERR wrong number of arguments');
    expect(await broken.counted()).toBe(0);
  });

  it('writes the result again until a replica confirms it, answering what the first write did', async () => {
    const f = fixture(['recorded', 'again'], [false, true]);
    expect(await recordResult(RUN, outcomes.succeeded(), f.output, f.deps, undefined)).toBe('recorded');
    expect(f.writes).toHaveLength(2);
    expect(await f.counted()).toBe(1);
  });

  it('moves on after 12 writes that no replica confirmed', async () => {
    const f = fixture(['recorded'], Array<boolean>(20).fill(false));
    expect(await recordResult(RUN, outcomes.succeeded(), f.output, f.deps, undefined)).toBe('recorded');
    expect(f.writes).toHaveLength(12);
  });

  it.each(['ended', 'fenced'] as const)('leaves a result that stands alone when the write answers %s, and counts nothing', async (reply) => {
    const f = fixture([reply], [false]);
    expect(await recordResult(RUN, outcomes.succeeded(), f.output, f.deps, undefined)).toBe(reply);
    expect(f.writes).toHaveLength(1);
    expect(await f.counted()).toBe(0);
  });
});
