/**
 * `npm run bench:executors`: many executor processes on one queue (issue 23, item 5). A dispatcher
 * and 8 executors (the product's CLI, local runtime, each a process of its own) on a Redis of the
 * run's own; 2,000 short counted scripts submitted over HTTP. Prints whether each ran once, the
 * share each executor took, and the Redis commands per operation by name. Its last line is one JSON
 * object. test/faults/many-executors.test.ts runs the same with 400 operations in `npm test`.
 *
 * Settings: BENCH_OPERATIONS (2000), BENCH_EXECUTORS (8), BENCH_CONCURRENCY (4 per executor),
 * BENCH_CLIENTS (16 submitting at once).
 */
import { runManyExecutors, startManyExecutors } from '../test/faults/support/many-executors.js';
import { printCircumstances } from './support/report.js';

const setting = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const OPERATIONS = setting('BENCH_OPERATIONS', 2000);
const EXECUTORS = setting('BENCH_EXECUTORS', 8);
const CONCURRENCY = setting('BENCH_CONCURRENCY', 4);
const CLIENTS = setting('BENCH_CLIENTS', 16);

printCircumstances('many executors, one queue', { OPERATIONS, EXECUTORS, CONCURRENCY, CLIENTS });
const deployment = await startManyExecutors({ executors: EXECUTORS, concurrency: CONCURRENCY });
const { figures } = await runManyExecutors(deployment, { operations: OPERATIONS, clients: CLIENTS, settleMs: 120_000 }).finally(() => deployment.close());
const { ledger, shares } = figures;
const counts = Object.values(shares);
const fairShare = ledger.submitted / EXECUTORS;
console.log(
  `submitted ${ledger.submitted}, ended ${ledger.ended}, ran twice ${ledger.repeated}, lost ${ledger.lost}, outcomes ${JSON.stringify(ledger.outcomes)}`,
);
console.log(`executors that took work: ${counts.length} of ${EXECUTORS}; runs attributed to none: ${figures.unattributed}`);
for (const [id, runs] of Object.entries(shares))
  console.log(`  ${id.padEnd(24)} ${String(runs).padStart(5)}  ${((runs / ledger.submitted) * 100).toFixed(1)} %`);
console.log(
  `share: smallest ${((Math.min(...counts) / fairShare) * 100).toFixed(0)} %, largest ${((Math.max(...counts) / fairShare) * 100).toFixed(0)} % of an even share (${fairShare.toFixed(0)})`,
);
console.log(
  `Redis commands per operation: ${figures.commandsPerOperation} (${figures.commandsPerOperationBeyondIdle} beyond the idle rate of ${figures.idleCommandsPerSecond}/s)`,
);
console.log(`  by command: ${JSON.stringify(figures.commandsPerOperationByName)}`);
console.log(`seconds: ${JSON.stringify(figures.seconds)}`);
console.log(
  JSON.stringify({
    operations: ledger.submitted,
    ended: ledger.ended,
    repeated: ledger.repeated,
    lost: ledger.lost,
    executors: EXECUTORS,
    executorsWithWork: counts.length,
    shares: counts,
    commandsPerOperation: figures.commandsPerOperation,
    commandsPerOperationBeyondIdle: figures.commandsPerOperationBeyondIdle,
    idleCommandsPerSecond: figures.idleCommandsPerSecond,
    seconds: figures.seconds,
  }),
);
