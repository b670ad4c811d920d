/**
 * `npm run bench:follow`: how soon a client following an operation's log
 * (`GET /api/v1/operations/:ticket/logs?follow=true`) gets the final `end` event once the result is
 * recorded, beside the floor of any such notice measured in the same run: one Redis PUBLISH reaching
 * a subscriber.
 *
 * kube-worker runs in this process (dispatcher and executor with the local runtime, as `kube-worker
 * start` runs them). Each sample submits `echo hi`, follows its log at once over HTTP, and notes
 * when the `end` event arrives; the record's finishedAt says when the result was stored (same
 * process, same clock). Samples of the two kinds alternate so that drift falls on both.
 */
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { startKubeWorkerLocal } from './support/local-kube-worker.js';
import { POOL, SUBMIT_PATH, TOKEN } from './support/operation.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-prefix.js';
import { printCircumstances, row } from './support/report.js';
import { fixed, percentile } from './support/stats.js';

const setting = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const SAMPLES = setting('BENCH_SAMPLES', 100);
const WARMUP = setting('BENCH_WARMUP_SAMPLES', 10);

const headers = { authorization: `Bearer ${TOKEN}` };

interface FollowSample {
  /** Result stored → `end` event received, ms. */
  storedToEnd: number;
  /** Submission sent → `end` event received, ms. */
  submitToEnd: number;
  /** Submission sent → result stored, ms. */
  submitToStored: number;
}

/** Reads the event stream until its `end` event; the time it arrived (ms since the epoch). */
async function followToEnd(url: string): Promise<number> {
  const response = await fetch(url, { headers });
  if (!response.ok || !response.body) throw new Error(`follow answered ${response.status}`);
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes('event: end\n')) return performance.timeOrigin + performance.now();
  }
  throw new Error('the stream closed without an end event');
}

async function followSample(baseUrl: string, n: number): Promise<FollowSample> {
  const ticket = `follow-${n}-${Date.now()}`;
  const sent = performance.timeOrigin + performance.now();
  const submitted = await fetch(`${baseUrl}${SUBMIT_PATH}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ ticket, pool: POOL, script: { syntax: 'bash', body: 'echo hi' } }),
  });
  if (submitted.status !== 202) throw new Error(`submit answered ${submitted.status}: ${await submitted.text()}`);
  const endAt = await followToEnd(`${baseUrl}${SUBMIT_PATH}/${ticket}/logs?follow=true`);
  const status = (await (await fetch(`${baseUrl}${SUBMIT_PATH}/${ticket}`, { headers })).json()) as { state: string; timings: { finishedAt?: string } };
  if (status.state !== 'succeeded' || !status.timings.finishedAt) throw new Error(`operation ${ticket} is ${status.state}`);
  const storedAt = Date.parse(status.timings.finishedAt);
  return { storedToEnd: endAt - storedAt, submitToEnd: endAt - sent, submitToStored: storedAt - sent };
}

/** One PUBLISH reaching a subscriber on another connection, ms. */
async function publishSample(publisher: Redis, subscriber: Redis, channel: string): Promise<number> {
  const heard = new Promise<number>((resolve) => subscriber.once('message', () => resolve(performance.now())));
  const sent = performance.now();
  await publisher.publish(channel, 'x');
  return (await heard) - sent;
}

const summary = (values: number[]): string[] => [fixed(percentile(values, 50), 1), fixed(percentile(values, 90), 1), fixed(percentile(values, 99), 1)];

async function main(): Promise<void> {
  printCircumstances('kube-worker log follow benchmark', { redis: REDIS_URL, samples: SAMPLES, warmup: WARMUP });
  const prefix = uniquePrefix('follow');
  const workDir = path.join(os.tmpdir(), prefix);
  const logFile = `${workDir}.log`;
  const target = await startKubeWorkerLocal(REDIS_URL, prefix, 4, workDir, logFile);
  const publisher = new Redis(REDIS_URL);
  const subscriber = new Redis(REDIS_URL);
  const channel = `${prefix}:bench-floor`;
  await subscriber.subscribe(channel);
  const follows: FollowSample[] = [];
  const floor: number[] = [];
  try {
    for (let n = 0; n < WARMUP + SAMPLES; n += 1) {
      const sample = await followSample(target.baseUrl!, n);
      const published = await publishSample(publisher, subscriber, channel);
      if (n < WARMUP) continue;
      follows.push(sample);
      floor.push(published);
    }
  } finally {
    await target.close();
    await subscriber.quit();
    await publisher.quit();
    await rm(logFile, { force: true });
    await rm(workDir, { recursive: true, force: true });
    await deletePrefix(REDIS_URL, prefix);
  }

  const widths = [44, 8, 8, 8];
  console.log(row(['ms', 'p50', 'p90', 'p99'], widths));
  console.log(row(['kube-worker: result stored → SSE end', ...summary(follows.map((s) => s.storedToEnd))], widths));
  console.log(row(['floor: Redis PUBLISH → subscriber', ...summary(floor)], widths));
  console.log(row(['kube-worker: submitted → result stored', ...summary(follows.map((s) => s.submitToStored))], widths));
  console.log(row(['kube-worker: submitted → SSE end', ...summary(follows.map((s) => s.submitToEnd))], widths));
  console.log('');
  const p90 = percentile(
    follows.map((s) => s.storedToEnd),
    90,
  );
  console.log(`result stored → SSE end, p90: ${fixed(p90, 1)} ms (goal ≤ 50 ms); ${fixed(p90 - percentile(floor, 90), 1)} ms above the PUBLISH floor's p90`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
