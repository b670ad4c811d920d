/**
 * A Redis restart or failover loses the replies of the commands caught in flight: they ran, and
 * ioredis sends them again once it has reconnected. Each step of a run is cut that way here, on
 * purpose, and the operation must still run once and end with its script's own result.
 */
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { keys } from '../../core/keys.js';
import { startReplyCutter, type ReplyCutter } from '../support/reply-cutter.js';
import { bash, startStack, type Stack } from './support/stack.js';

const isScript = (request: string): boolean => /\r\nEVAL(SHA)?\r\n/i.test(request);

/** Which request of the executor's is cut, for the operation whose keys are `k`. */
const STEPS: Array<{ step: string; matches: (k: { op: string; payload: string; log: string; finished: string }) => (request: string) => boolean }> = [
  // The claim is the executor's first script on the record: it reads the payload, writes no log.
  { step: 'the claim', matches: (k) => (r) => isScript(r) && r.includes(k.payload) && !r.includes(k.log) },
  { step: 'a log line', matches: (k) => (r) => r.includes(k.log) && !r.includes(k.finished) },
  { step: 'the start of the script', matches: (k) => (r) => isScript(r) && r.includes(`${k.op}\r\n`) && !r.includes(k.payload) },
  { step: 'the result', matches: (k) => (r) => isScript(r) && r.includes(k.finished) },
];

describe.each(STEPS)('when the reply to $step is lost', ({ matches }) => {
  let cutter: ReplyCutter;
  let stack: Stack;
  let marker: string;
  afterEach(async () => {
    await stack.close();
    await cutter.close();
    await rm(marker, { force: true });
  });

  it('the operation runs once and ends with its own exit code and output', async () => {
    cutter = await startReplyCutter(inject('redisUrl'));
    stack = await startStack({ executorRedisUrl: cutter.url });
    marker = path.join(os.tmpdir(), `kw-lost-reply-${process.pid}-${Date.now()}`);
    const ticket = `lost-reply-${Date.now()}`;
    const k = keys(stack.config.prefix).pool('default');
    const cut = cutter.cutAfter(matches({ op: k.operation(ticket), payload: k.payload(ticket), log: k.log(ticket), finished: k.finishedChannel }));
    await stack.submit({ ticket, ...bash(`echo ran >> ${marker}; echo first; sleep 0.2; echo second; exit 3`) });
    await cut;
    const status = await stack.waitUntilDone(ticket);
    expect({ state: status.state, exitCode: status.exitCode, reason: status.failure?.reason }).toEqual({
      state: 'failed',
      exitCode: 3,
      reason: 'ScriptFailed',
    });
    const output = status.logs.filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(output).toEqual(['first', 'second']);
    expect(await readFile(marker, 'utf8')).toBe('ran\n');
    const sequences = status.logs.map((l) => l.seq);
    expect(new Set(sequences).size).toBe(sequences.length);
  });
});
