/**
 * Each step of a run, from its claim to its result, failed the two ways a Redis restart or failover
 * fails a command, on purpose:
 * - its reply is lost: the command ran, and ioredis sends it again once it has reconnected;
 * - Redis cannot serve it (LOADING, as a restarted Redis answers while it reads its data back, or a
 *   connection ended under it): the executor asks again until Redis answers.
 * Either way the operation must run once and end with its script's own result and output.
 */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { keys } from '../../core/keys.js';
import { luaCommands } from '../../core/lua-commands.js';
import { startRedisFaultProxy, type RedisFaultProxy } from '../support/redis-fault-proxy.js';
import { bash, startStack } from './support/stack.js';

const isScript = (request: string): boolean => /\r\nEVAL(SHA)?\r\n/i.test(request);

/** Whether a command runs the product's Lua command `name` (as EVALSHA, or EVAL when Redis did not have it). */
function runs(folder: string, name: string): (command: string) => boolean {
  const lua = luaCommands(new URL(folder, import.meta.url)).find((c) => c.name === name)?.lua;
  if (lua === undefined) throw new Error(`no Lua command ${name} in ${folder}`);
  const sha = createHash('sha1').update(lua).digest('hex');
  return (command) => isScript(command) && (command.includes(sha) || command.includes(lua));
}

interface OperationKeys {
  op: string;
  payload: string;
  log: string;
  finished: string;
}
type Step = { step: string; matches: (k: OperationKeys) => (command: string) => boolean };

// The claim is the executor's first script on the record: it reads the payload, writes no log.
const claim: Step = { step: 'the claim', matches: (k) => (r) => isScript(r) && r.includes(k.payload) && !r.includes(k.log) };
const result: Step = { step: 'the result', matches: (k) => (r) => isScript(r) && r.includes(k.finished) };

const LOST: Step[] = [
  claim,
  { step: 'a log line', matches: (k) => (r) => r.includes(k.log) && !r.includes(k.finished) },
  { step: 'the start of the script', matches: (k) => (r) => isScript(r) && r.includes(`${k.op}\r\n`) && !r.includes(k.payload) },
  result,
];

const markRunning = runs('../../core/lua/', 'kwMarkRunning');
const takeMutex = runs('../../executor/isolation/lua/', 'kwMutexLockShared');
const REFUSED: Step[] = [
  claim,
  { step: 'opening its log', matches: (k) => (r) => /\r\nXREVRANGE\r\n/i.test(r) && r.includes(k.log) },
  { step: 'taking its mutex', matches: () => takeMutex },
  { step: 'the start of the script', matches: (k) => (r) => markRunning(r) && r.includes(k.op) },
  result,
];

async function runsOnceThrough(fault: (proxy: RedisFaultProxy, k: OperationKeys) => Promise<string>): Promise<void> {
  const proxy = await startRedisFaultProxy(inject('redisUrl'));
  const stack = await startStack({ executorRedisUrl: proxy.url });
  const marker = path.join(os.tmpdir(), `kw-step-fault-${process.pid}-${Date.now()}`);
  try {
    const ticket = `step-fault-${Date.now()}`;
    const k = keys(stack.config.prefix).pool('default');
    const failed = fault(proxy, { op: k.operation(ticket), payload: k.payload(ticket), log: k.log(ticket), finished: k.finishedChannel });
    await stack.submit({ ticket, ...bash(`echo ran >> ${marker}; echo first; sleep 0.2; echo second; exit 3`) });
    await failed;
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
  } finally {
    await stack.close();
    await proxy.close();
    await rm(marker, { force: true });
  }
}

describe.each(LOST)('when the reply to $step is lost', ({ matches }) => {
  it('the operation runs once and ends with its own exit code and output', async () => {
    await runsOnceThrough((proxy, k) => proxy.cutAfter(matches(k)));
  });
});

describe.each(REFUSED)('when Redis cannot serve $step', ({ matches }) => {
  it('the executor asks again, and the operation runs once and ends with its own exit code and output', async () => {
    await runsOnceThrough((proxy, k) => proxy.refuse(matches(k)));
  });
});
