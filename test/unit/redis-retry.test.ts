import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { untilRedisAnswers } from '../../core/redis-retry.js';

const log = createLogger('silent', 'test');

/** A step that fails with each of `errors` in turn, then answers 'done'; and how often it was asked. */
function failing(...errors: Error[]) {
  const asked = { times: 0 };
  const step = async (): Promise<string> => {
    const error = errors[asked.times++];
    if (error) throw error;
    return 'done';
  };
  return { step, asked };
}

describe('a step asked again while Redis cannot answer', () => {
  it.each(['Connection is closed.', 'LOADING Redis is loading the dataset in memory', 'READONLY You cannot write against a read only replica.'])(
    'gets its answer once Redis answers again after "%s"',
    async (message) => {
      const { step, asked } = failing(new Error(message), new Error(message));
      expect(await untilRedisAnswers(step, { log, doing: 'test' })).toBe('done');
      expect(asked.times).toBe(3);
    },
  );

  it('fails at once with an error that is not Redis being away', async () => {
    const { step, asked } = failing(new Error('ERR wrong number of arguments'));
    await expect(untilRedisAnswers(step, { log, doing: 'test' })).rejects.toThrow('ERR wrong number of arguments');
    expect(asked.times).toBe(1);
  });

  it('asks once more when its signal aborts during a wait, then fails with that error', async () => {
    const stop = new AbortController();
    const away = new Error('Connection is closed.');
    const { step, asked } = failing(away, away, away, away);
    const answer = untilRedisAnswers(step, { log, doing: 'test', signal: stop.signal });
    setTimeout(() => stop.abort(), 50);
    await expect(answer).rejects.toBe(away);
    expect(asked.times).toBe(2);
  });
});
