import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, KubeWorkerClient, UNREACHABLE, type LogLine } from '../../client/index.js';
import { httpFetch } from '../../cli/http-fetch.js';
import { startStack, TOKEN, type Stack, useStack } from './support/stack.js';

// kube-worker/client as the README shows it, with Node's fetch and with the CLI's node:http one.
describe.each([
  ['fetch', undefined],
  ['node:http', httpFetch],
])('the published client (%s)', (_name, fetch) => {
  let stack: Stack;
  let client: KubeWorkerClient;
  beforeAll(async () => {
    stack = await startStack();
    client = new KubeWorkerClient({ baseUrl: stack.url, token: TOKEN, ...(fetch ? { fetch } : {}) });
  });
  afterAll(() => stack.close());

  it('submits an operation, follows its log to the end, reads its status and completes it', async () => {
    const { ticket, state } = await client.submit({
      pool: 'default',
      script: { syntax: 'bash', body: 'echo "hello $WHO"; exit 3' },
      variables: { WHO: { value: 'world' } },
    });
    expect(state).toBe('queued');
    const lines: LogLine[] = [];
    const end = await client.follow(ticket, (line) => lines.push(line));
    expect(end).toMatchObject({ ticket, state: 'failed', exitCode: 3 });
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['hello world']);
    const status = await client.status(ticket);
    expect(status).toMatchObject({ ticket, state: 'failed', exitCode: 3, failure: { reason: 'ScriptFailed' } });
    expect(status.logs.map((l) => l.seq)).toEqual(lines.map((l) => l.seq));
    expect((await client.queues()).pools.map((p) => p.pool)).toEqual(['default']);
    expect((await client.worker()).pools).toEqual(['default']);
    await client.complete(ticket);
    await expect(client.status(ticket)).rejects.toMatchObject({ status: 404, code: 'KW_ERR_NOT_FOUND' });
  });

  it('throws an ApiError carrying the problem document the API answered with', async () => {
    const refused = await client.submit({ pool: 'nowhere', script: { syntax: 'bash', body: 'true' } }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({
      status: 422,
      code: 'KW_ERR_UNKNOWN_POOL',
      problem: { status: 422, code: 'KW_ERR_UNKNOWN_POOL', instance: '/api/v1/operations' },
    });
    expect((refused as ApiError).message).toContain('"nowhere" is not served here');
    const wrongToken = new KubeWorkerClient({ baseUrl: stack.url, token: 'not-the-token-0123456789', ...(fetch ? { fetch } : {}) });
    await expect(wrongToken.queues()).rejects.toMatchObject({ status: 401, code: 'KW_ERR_UNAUTHORIZED' });
  });

  it('cancels, and says when nothing answers at all', async () => {
    const { ticket } = await client.submit({ pool: 'default', script: { syntax: 'bash', body: 'sleep 30' } });
    await stack.waitForState(ticket, ['running']);
    expect(await client.cancel(ticket)).toMatchObject({ ticket });
    expect((await stack.waitUntilDone(ticket)).state).toBe('cancelled');
    const nowhere = new KubeWorkerClient({ baseUrl: 'http://127.0.0.1:9', token: TOKEN, unreachableHint: 'is it running?', ...(fetch ? { fetch } : {}) });
    await expect(nowhere.queues()).rejects.toMatchObject({
      status: 0,
      code: UNREACHABLE,
      message: expect.stringMatching(/^cannot reach kube-worker at http:\/\/127\.0\.0\.1:9 \(.+\); is it running\?$/),
    });
  });
});

describe('README: the client example', () => {
  const ROOT = path.resolve(import.meta.dirname, '../..');
  const stack = useStack();

  it('runs as written and prints what its comments say', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('```ts\n', readme.indexOf('<!-- client-example -->')) + 6;
    const example = readme.slice(start, readme.indexOf('```\n', start));
    expect(example).toContain("from 'kube-worker/client'");
    // The package's own sources rather than a build of them; the server this test started.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kw-client-example-'));
    const file = path.join(dir, 'example.mts'); // an ES module, as in a program of type module
    writeFileSync(file, example.replace("'kube-worker/client'", `'${path.join(ROOT, 'client/index.ts')}'`).replace('http://127.0.0.1:8080', stack.url));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, KUBE_WORKER_API_TOKEN: TOKEN },
      });
      const lines = stdout.trimEnd().split('\n');
      expect(lines).toContain('hello world');
      expect(lines.slice(-2)).toEqual(['succeeded 0', expect.stringMatching(/^[\w-]+ released$/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
