/**
 * `npm run bench:intake`: how fast kube-worker's dispatcher accepts operations over HTTP, as a
 * ratio to a minimal fastify route that only calls Queue.add (the floor of any HTTP intake on
 * BullMQ) and to bare Queue.add without HTTP, all measured in this run on this machine.
 *
 * Every round starts a fresh target process under a fresh Redis prefix, warms it up, measures it
 * and deletes its keys. Variants alternate (A B C, then C B A) so that drift from other work on the
 * machine falls on all of them alike; ratios are medians of the per-round ratios.
 */
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Figures } from './support/figures.js';
import { loadHttp } from './support/http-load.js';
import type { Variant } from './support/intake-target.js';
import { countLogLines } from './support/log-file.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-prefix.js';
import { printCircumstances, row } from './support/report.js';
import { fixed, median } from './support/stats.js';
import { startTarget } from './support/target-process.js';

const setting = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const ROUNDS = setting('BENCH_ROUNDS', 5);
const SECONDS = setting('BENCH_SECONDS', 10);
const WARMUP_SECONDS = setting('BENCH_WARMUP_SECONDS', 3);
const CONNECTIONS = setting('BENCH_CONNECTIONS', 16);
const RATE = setting('BENCH_RATE', 1000);
const RATE_ROUNDS = setting('BENCH_RATE_ROUNDS', 3);
/** autocannon's own default; at a fixed rate each connection sends its share of a second back to back. */
const RATE_CONNECTIONS = setting('BENCH_RATE_CONNECTIONS', 10);

const SETTLE_MS = 300;

const WIDTHS = [8, 17, 12, 10, 10, 12, 8];
const VARIANTS: Variant[] = ['kube-worker', 'minimal-fastify', 'bare-queue-add'];

/** One round of one variant: fresh process and prefix, warm-up, measurement, cleanup. */
async function measure(variant: Variant, rate?: number): Promise<Figures> {
  const prefix = uniquePrefix('intake');
  const logFile = path.join(os.tmpdir(), `${prefix}.log`);
  const target = await startTarget({ variant, redisUrl: REDIS_URL, prefix, logFile });
  try {
    const load = (seconds: number, connections = CONNECTIONS, overallRate?: number): Promise<Figures> =>
      variant === 'bare-queue-add' ? target.runBare(connections, seconds) : loadHttp(target.url!, { connections, seconds, overallRate });
    await load(WARMUP_SECONDS);
    const cpuBefore = await target.cpuMicros();
    const figures = rate ? await load(SECONDS, RATE_CONNECTIONS, rate) : await load(SECONDS);
    return { ...figures, cpuMicros: ((await target.cpuMicros()) - cpuBefore) / figures.count };
  } finally {
    // The load generator hangs up with requests still in the server; let them finish before it closes Redis.
    await sleep(SETTLE_MS);
    await target.stop();
    if (variant === 'kube-worker')
      console.log(`         (kube-worker logged ${countLogLines(logFile, 'operation accepted')} "operation accepted" lines this round)`);
    await rm(logFile, { force: true });
    await deletePrefix(REDIS_URL, prefix);
  }
}

async function rounds(variants: Variant[], count: number, rate?: number): Promise<Map<Variant, Figures[]>> {
  const results = new Map<Variant, Figures[]>(variants.map((v) => [v, []]));
  console.log(row(['round', 'target', 'per second', 'p50 ms', 'p99 ms', 'CPU µs/op', 'errors'], WIDTHS));
  for (let round = 1; round <= count; round += 1) {
    const order = round % 2 === 1 ? variants : [...variants].reverse();
    for (const variant of order) {
      const figures = await measure(variant, rate);
      results.get(variant)!.push(figures);
      console.log(row([round, variant, fixed(figures.rate, 0), fixed(figures.p50), fixed(figures.p99), fixed(figures.cpuMicros!, 0), figures.errors], WIDTHS));
    }
  }
  console.log('');
  return results;
}

/** Median over rounds of kube-worker's figure divided by the baseline's in the same round. */
function pairedRatio(results: Map<Variant, Figures[]>, baseline: Variant, pick: (f: Figures) => number): string {
  const ours = results.get('kube-worker')!;
  const theirs = results.get(baseline)!;
  return `${fixed(median(ours.map((f, i) => pick(f) / pick(theirs[i]!))))}×`;
}

function summary(results: Map<Variant, Figures[]>): void {
  for (const [variant, figures] of results) {
    const mid = (pick: (f: Figures) => number): number => median(figures.map(pick));
    console.log(
      row(
        [
          'median',
          variant,
          fixed(
            mid((f) => f.rate),
            0,
          ),
          fixed(mid((f) => f.p50)),
          fixed(mid((f) => f.p99)),
          fixed(
            mid((f) => f.cpuMicros!),
            0,
          ),
        ],
        WIDTHS,
      ),
    );
  }
}

async function main(): Promise<void> {
  printCircumstances('kube-worker intake benchmark', {
    redis: REDIS_URL,
    rounds: ROUNDS,
    seconds: SECONDS,
    warmup: WARMUP_SECONDS,
    connections: CONNECTIONS,
    rate: RATE,
    rateRounds: RATE_ROUNDS,
    rateConnections: RATE_CONNECTIONS,
  });

  console.log(`Saturated: ${CONNECTIONS} connections (bare: ${CONNECTIONS} adds in flight), as fast as each target answers`);
  const saturated = await rounds(VARIANTS, ROUNDS);

  console.log(`Fixed rate: ${RATE} submissions/s offered over ${RATE_CONNECTIONS} connections`);
  const fixedRate = await rounds(['kube-worker', 'minimal-fastify'], RATE_ROUNDS, RATE);

  console.log('Medians');
  console.log(row(['', 'target', 'per second', 'p50 ms', 'p99 ms', 'CPU µs/op'], WIDTHS));
  summary(saturated);
  console.log(`at ${RATE}/s:`);
  summary(fixedRate);
  console.log('');
  for (const baseline of ['minimal-fastify', 'bare-queue-add'] as const) {
    console.log(
      `kube-worker / ${baseline}: throughput ${pairedRatio(saturated, baseline, (f) => f.rate)}, ` +
        `p50 ${pairedRatio(saturated, baseline, (f) => f.p50)}, p99 ${pairedRatio(saturated, baseline, (f) => f.p99)}, ` +
        `CPU per submission ${pairedRatio(saturated, baseline, (f) => f.cpuMicros!)}`,
    );
  }
  console.log(
    `kube-worker / minimal-fastify at ${RATE}/s: p50 ${pairedRatio(fixedRate, 'minimal-fastify', (f) => f.p50)}, p99 ${pairedRatio(fixedRate, 'minimal-fastify', (f) => f.p99)}`,
  );
  console.log(`kube-worker p99 at ${RATE}/s: ${fixed(median(fixedRate.get('kube-worker')!.map((f) => f.p99)))} ms (target < 50 ms)`);
  console.log('targets: throughput ≥ 0.8× minimal-fastify; p99 < 50 ms at 1000/s');

  const errors = [...saturated.values(), ...fixedRate.values()].flat().reduce((sum, f) => sum + f.errors, 0);
  if (errors > 0) {
    console.error(`\n${errors} submissions failed or answered non-2xx: these figures are not valid`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
