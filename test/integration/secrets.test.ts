/**
 * Sensitive values never show, whatever path they take: the log, the status's failure message,
 * the executor's own log (pino) and the failed reason the queue keeps for the dashboard.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { queueName } from '../../core/queue.js';
import type { Runtime } from '../../executor/runtime.js';
import { spawnExecutor, type ChildExecutor } from './support/child-executor.js';
import { b64, bash, startStack, type Stack } from './support/stack.js';

async function failedReasons(stack: Stack): Promise<string[]> {
  const connection = new Redis(stack.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName('default'), { connection, prefix: stack.config.prefix });
  try {
    return (await queue.getFailed()).map((job) => job.failedReason);
  } finally {
    await queue.close();
    await connection.quit();
  }
}

describe('sensitive values', () => {
  let stack: Stack;
  let child: ChildExecutor | undefined;
  afterEach(async () => {
    child?.process.kill('SIGKILL');
    await stack.close();
  });

  it('a sensitive value with a NUL is refused at intake without showing the value anywhere', async () => {
    // The local runtime refuses it too, should one reach it (local-runtime.test.ts); here the whole path.
    stack = await startStack({ executors: 0 });
    const executor = (child = await spawnExecutor(stack));
    const response = await stack.api('POST', '/api/v1/operations', {
      pool: 'default',
      ...bash('echo started', { variables: { DB_PASSWORD: { value: 'hunter\u0000two-secret-917', sensitive: true } } }),
    });
    expect(response.status).toBe(422);
    expect(JSON.stringify(response.body)).toMatch(/DB_PASSWORD/);
    const everything = [JSON.stringify(response.body), executor.output(), ...(await failedReasons(stack))].join('\n');
    expect(everything).not.toMatch(/two-secret-917|hunter/);
  }, 180_000);

  it('the content of a sensitive file is masked in the log, line by line', async () => {
    stack = await startStack();
    const content = 'user=admin\npassword=file-secret-456\n';
    const ticket = await stack.submit(
      bash('cat creds.txt; grep password creds.txt | sed "s/^/found: /"', { files: [{ name: 'creds.txt', content: b64(content), sensitive: true }] }),
    );
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('succeeded');
    const texts = status.logs.map((l) => l.text);
    expect(texts.join('\n')).not.toContain('file-secret-456');
    expect(texts).toEqual(expect.arrayContaining(['********', 'found: ********']));
  });

  it('an output variable that is or holds a sensitive value is sensitive, and masked in the log', async () => {
    stack = await startStack();
    // The script says sensitive='False'; `value`: what the shell expands, base64-encoded by the script.
    const set = (name: string, value: string): string =>
      `echo "##octopus[setVariable name='${b64(name)}' value='$(printf %s "${value}" | base64 -w0)' sensitive='${b64('False')}']"`;
    const ticket = await stack.submit(
      bash(
        [
          set('COPY', '$DB_PASSWORD'),
          set('DSN', 'postgres://app:$DB_PASSWORD@db/app'),
          set('HOST', 'db'),
          'echo "dsn postgres://app:$DB_PASSWORD@db/app"',
        ].join('\n'),
        {
          variables: { DB_PASSWORD: { value: 'out-secret-5521', sensitive: true } },
        },
      ),
    );
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('succeeded');
    expect(status.outputVariables).toEqual({
      COPY: { value: 'out-secret-5521', sensitive: true },
      DSN: { value: 'postgres://app:out-secret-5521@db/app', sensitive: true },
      HOST: { value: 'db', sensitive: false },
    });
    expect(status.logs.map((l) => l.text)).toContain('dsn ********');
  });

  it("the product's own lines and messages are never masked, even when a sensitive value is one of their words", async () => {
    stack = await startStack();
    const ticket = await stack.submit(
      bash('echo "$WORD1 $WORD2 ran"; exit 3', { variables: { WORD1: { value: 'executor', sensitive: true }, WORD2: { value: 'script', sensitive: true } } }),
    );
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('failed');
    const texts = status.logs.map((l) => l.text);
    expect(texts[0]).toMatch(/^Picked up by executor \S+ \(local runtime\)$/);
    expect(texts).toContain('******** ******** ran');
    expect(status.failure?.message).toBe('The script exited with code 3');
    expect(texts.at(-1)).toBe('Failed with exit code 3: The script exited with code 3');
  });

  it('a runtime error or failure message quoting a sensitive value is masked in the status, the log and the failed reason', async () => {
    stack = await startStack({ executors: 0 });
    const quoting = (how: 'throw' | 'fail'): Runtime => ({
      name: 'quoting',
      handsBackOnShutdown: false,
      async run(context) {
        const value = context.request.variables!.API_KEY!.value;
        if (how === 'throw') throw new Error(`could not pass ${value}`);
        return { state: 'failed', exitCode: 1, failure: { reason: 'ScriptFailed', message: `refused ${value}` } };
      },
      async close() {},
    });
    for (const how of ['throw', 'fail'] as const) {
      const executor = await stack.addExecutor({}, async () => quoting(how));
      const ticket = await stack.submit(bash('true', { variables: { API_KEY: { value: `key-${how}-31337`, sensitive: true } } }));
      const status = await stack.waitUntilDone(ticket);
      expect(status.state).toBe('failed');
      expect(status.failure?.message).toContain('********');
      const everything = [JSON.stringify(status), ...(await failedReasons(stack))].join('\n');
      expect(everything).not.toContain('-31337');
      await executor.close();
    }
  });
});
