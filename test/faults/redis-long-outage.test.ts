import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { call } from './support/client.js';
import { useDeployment } from './support/deployment.js';
import { markerFile } from './support/ledger.js';

/** Twice the default queue lock (30 s): every lock lapses while Redis is away. */
const OUTAGE_MS = 60_000;

interface Status {
  state: string;
  exitCode?: number;
  failure?: { reason: string };
  logs: Array<{ stream: string; text: string }>;
}

describe('a Redis outage of a minute, with the default queue lock', () => {
  const start = useDeployment();

  it('fails no operation whose executor is alive: each ends with its own exit code and output', async () => {
    const redis = await start.ownRedis();
    const processes = await start.processes(redis.url, { dispatchers: 1, executors: 2 }, { KUBE_WORKER_CONCURRENCY: '4' });
    const dispatcher = processes.dispatchers[0]!.url;
    const marker = await markerFile();
    // Half end while Redis is away (their result waits for it); half run on well past its return.
    const operations = Array.from({ length: 8 }, (_, i) => ({
      ticket: `long-outage-${i}`,
      exitCode: 10 + i,
      seconds: i % 2 === 0 ? 20 : 75,
    }));
    for (const { ticket, exitCode, seconds } of operations) {
      const body = `echo ${ticket} >> ${marker}\necho started\nsleep ${seconds}\necho ended\nexit ${exitCode}`;
      const answer = await call(dispatcher, 'POST', '/api/v1/operations', { ticket, pool: 'default', script: { syntax: 'bash', body } });
      expect(answer).toMatchObject({ kind: 'answer', status: 202 });
    }
    const status = async (ticket: string): Promise<Status | undefined> => {
      const answer = await call(dispatcher, 'GET', `/api/v1/operations/${ticket}?limit=1000`);
      return answer.kind === 'answer' && answer.status === 200 ? (answer.body as Status) : undefined;
    };
    await expect
      .poll(async () => (await Promise.all(operations.map((o) => status(o.ticket)))).map((s) => s?.state), { timeout: 60_000, interval: 500 })
      .toEqual(operations.map(() => 'running'));

    await redis.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await redis.start();

    const final = (s: Status | undefined): boolean => ['succeeded', 'failed', 'cancelled'].includes(s?.state ?? '');
    let ended: Array<Status | undefined> = [];
    await expect
      .poll(async () => (ended = await Promise.all(operations.map((o) => status(o.ticket)))).every(final), { timeout: 120_000, interval: 1000 })
      .toBe(true);
    expect(
      ended.map((s) => ({ exitCode: s?.exitCode, reason: s?.failure?.reason, output: s?.logs.filter((l) => l.stream === 'stdout').map((l) => l.text) })),
    ).toEqual(operations.map((o) => ({ exitCode: o.exitCode, reason: 'ScriptFailed', output: ['started', 'ended'] })));
    const runs = (await readFile(marker, 'utf8')).split('\n').filter(Boolean).sort();
    expect(runs).toEqual(operations.map((o) => o.ticket).sort());
  });
});
