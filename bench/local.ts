/**
 * `npm run bench:local`: operations per second from submission to success for trivial bash
 * scripts, through kube-worker (dispatcher and executor with the local runtime in this process, as
 * `kube-worker start` runs them) and through a bare BullMQ Worker that spawns bash, at the same
 * concurrency, in the same run.
 *
 * Each round starts the variant afresh under a fresh Redis prefix, runs a few operations to warm
 * up, then times a batch: from the first submission until the last operation has ended. Variants
 * alternate so that drift from other work on the machine falls on both; the ratio is the median of
 * the per-round ratios.
 */
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { countCompletions, kubeWorkerQueuePrefix } from './support/completions.js';
import { startBullmqSpawn } from './support/local-bullmq.js';
import { startKubeWorkerLocal, type LocalTarget } from './support/local-kube-worker.js';
import { countLogLines } from './support/log-file.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-prefix.js';
import { printCircumstances, row } from './support/report.js';
import { fixed, median } from './support/stats.js';

const setting = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const ROUNDS = setting('BENCH_ROUNDS', 5);
const OPERATIONS = setting('BENCH_OPERATIONS', 300);
const WARMUP_OPERATIONS = setting('BENCH_WARMUP_OPERATIONS', 30);
const CONCURRENCY = setting('BENCH_CONCURRENCY', 8);
/** Submissions in flight at once: enough to keep every executor slot busy from the start. */
const SUBMITTING = 16;

type Variant = 'kube-worker' | 'bullmq-spawn';
const VARIANTS: Variant[] = ['kube-worker', 'bullmq-spawn'];

interface Round {
  /** Operations that succeeded per second, first submission to last end. */
  rate: number;
  /** CPU time of this process (dispatcher, executor, the benchmark) per operation, µs; bash's own is not in it. */
  cpuMicros: number;
  failed: number;
}

async function submitAll(target: LocalTarget, count: number): Promise<void> {
  let next = 0;
  const submitter = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      await target.submit();
    }
  };
  await Promise.all(Array.from({ length: SUBMITTING }, submitter));
}

async function measure(variant: Variant): Promise<Round> {
  const prefix = uniquePrefix('local');
  const workDir = path.join(os.tmpdir(), prefix);
  const logFile = `${workDir}.log`;
  // The baseline's queue sits where kube-worker's would, so that one counter serves both.
  const queuePrefix = kubeWorkerQueuePrefix(prefix);
  const completions = countCompletions(REDIS_URL, queuePrefix);
  const target =
    variant === 'kube-worker'
      ? await startKubeWorkerLocal(REDIS_URL, prefix, CONCURRENCY, workDir, logFile)
      : startBullmqSpawn(REDIS_URL, queuePrefix, CONCURRENCY);
  try {
    await submitAll(target, WARMUP_OPERATIONS);
    await completions.until(WARMUP_OPERATIONS);
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    await submitAll(target, OPERATIONS);
    await completions.until(WARMUP_OPERATIONS + OPERATIONS);
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return { rate: (completions.succeeded - WARMUP_OPERATIONS) / seconds, cpuMicros: (cpu.user + cpu.system) / OPERATIONS, failed: completions.failed };
  } finally {
    await target.close();
    await completions.close();
    if (variant === 'kube-worker')
      console.log(`         (kube-worker logged ${countLogLines(logFile, 'operation finished')} "operation finished" lines this round)`);
    await rm(logFile, { force: true });
    await rm(workDir, { recursive: true, force: true });
    await deletePrefix(REDIS_URL, prefix);
  }
}

async function main(): Promise<void> {
  printCircumstances('kube-worker local runtime benchmark', {
    redis: REDIS_URL,
    rounds: ROUNDS,
    operations: OPERATIONS,
    warmup: WARMUP_OPERATIONS,
    concurrency: CONCURRENCY,
  });
  const widths = [8, 15, 14, 12, 8];
  const results = new Map<Variant, Round[]>(VARIANTS.map((v) => [v, []]));
  console.log(`bash 'echo hi', ${OPERATIONS} operations per round, concurrency ${CONCURRENCY}`);
  console.log(row(['round', 'target', 'operations/s', 'CPU µs/op', 'failed'], widths));
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const variant of round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse()) {
      const figures = await measure(variant);
      results.get(variant)!.push(figures);
      console.log(row([round, variant, fixed(figures.rate, 1), fixed(figures.cpuMicros, 0), figures.failed], widths));
    }
  }
  const ours = results.get('kube-worker')!;
  const bare = results.get('bullmq-spawn')!;
  console.log('');
  for (const [variant, rounds] of results) {
    console.log(row(['median', variant, fixed(median(rounds.map((r) => r.rate)), 1), fixed(median(rounds.map((r) => r.cpuMicros)), 0)], widths));
  }
  console.log('');
  console.log(
    `kube-worker / bullmq-spawn: operations/s ${fixed(median(ours.map((r, i) => r.rate / bare[i]!.rate)))}× (target ≥ 0.5), ` +
      `CPU per operation ${fixed(median(ours.map((r, i) => r.cpuMicros / bare[i]!.cpuMicros)))}×`,
  );

  const failed = [...ours, ...bare].reduce((sum, r) => sum + r.failed, 0);
  if (failed > 0) {
    console.error(`\n${failed} operations did not succeed: these figures are not valid`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
