/**
 * Many executor processes on one queue: a dispatcher and `executors` executors (the product's CLI,
 * local runtime) on a Redis of their own, `operations` short counted scripts submitted over HTTP.
 * Says whether each ran once, the share each executor took (from each run's first line, which names
 * its executor) and what Redis ran per operation (INFO commandstats, before the burst and once the
 * queue holds every operation as ended, so the reads that check the outcomes are not in it).
 * Used by test/faults/many-executors.test.ts (reduced) and bench/executors.ts (full size).
 */
import { call } from './client.js';
import { startProcesses, type Processes } from './deployment.js';
import { countedOperation, markerFile, settle, type Figures } from './ledger.js';
import { Load } from './load.js';
import { commandCounts, commandsBetween, commandsPer, totalCommands } from './redis-commands.js';
import { startOwnRedis, type OwnRedis } from '../../support/redis-server.js';
import { stopwatch } from './report.js';

export interface ManyExecutorsOptions {
  operations: number;
  executors: number;
  /** Operations each executor runs at once. */
  concurrency: number;
  /** Clients submitting at once. */
  clients: number;
  /** How long the operations may go without one of them ending before the rest count as stuck. */
  settleMs: number;
}

export interface ManyExecutorsFigures {
  ledger: Figures;
  /** Executor id → operations it ran, largest first. */
  shares: Record<string, number>;
  /** Operations whose first line named no executor (none expected). */
  unattributed: number;
  /** Every command Redis ran from the burst until the queue held all as ended, per operation. */
  commandsPerOperation: number;
  /** The same by command (scripts' own calls counted under their names, beside EVALSHA). */
  commandsPerOperationByName: Record<string, number>;
  /** Commands per second of the same processes before the burst, doing nothing: heartbeats, blocking reads. */
  idleCommandsPerSecond: number;
  /**
   * commandsPerOperation less what the idle rate would have run meanwhile: what the operations
   * themselves cost, nearly independent of how long a loaded machine took over them.
   */
  commandsPerOperationBeyondIdle: number;
  /** Seconds of each step, to see where a run's time goes (never asserted). */
  seconds: Record<string, number>;
}

const IDLE_WINDOW_MS = 5_000;

/** Completed and failed jobs of every pool, from `GET /api/v1/queues` (a few commands a read). */
async function endedInQueue(dispatcher: string): Promise<number> {
  const outcome = await call(dispatcher, 'GET', '/api/v1/queues');
  if (outcome.kind !== 'answer' || outcome.status !== 200) return -1;
  const { pools } = outcome.body as { pools: Array<{ completed: number; failed: number }> };
  return pools.reduce((sum, p) => sum + p.completed + p.failed, 0);
}

/** Waits until the queue holds `count` ended jobs, or none has ended for `stallMs`. */
async function queueDrained(dispatcher: string, count: number, stallMs: number): Promise<void> {
  let last = -1;
  let deadline = Date.now() + stallMs;
  for (;;) {
    const ended = await endedInQueue(dispatcher);
    if (ended >= count || Date.now() > deadline) return;
    if (ended > last) [last, deadline] = [ended, Date.now() + stallMs];
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Executor id → runs, from the first line of each ticket's log ("Picked up by executor ID (local runtime)"). */
async function executorShares(dispatcher: string, tickets: string[]): Promise<{ shares: Record<string, number>; unattributed: number }> {
  const counts = new Map<string, number>();
  let unattributed = 0;
  for (let i = 0; i < tickets.length; i += 16) {
    const ids = await Promise.all(
      tickets.slice(i, i + 16).map(async (ticket) => {
        const outcome = await call(dispatcher, 'GET', `/api/v1/operations/${ticket}?limit=1`);
        const text = outcome.kind === 'answer' ? (outcome.body as { logs?: Array<{ text: string }> }).logs?.[0]?.text : undefined;
        return text?.match(/^Picked up by executor (\S+)/)?.[1];
      }),
    );
    for (const id of ids) {
      if (id === undefined) unattributed += 1;
      else counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return { shares: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])), unattributed };
}

export interface ManyExecutorsRun {
  figures: ManyExecutorsFigures;
  load: Load;
}

/** A Redis of its own, a dispatcher and the executors, started; `close` stops them all and never throws. */
export interface ManyExecutors {
  redisUrl: string;
  dispatcher: string;
  startSeconds: number;
  close(): Promise<void>;
}

export async function startManyExecutors(options: Pick<ManyExecutorsOptions, 'executors' | 'concurrency'>): Promise<ManyExecutors> {
  const started = Date.now();
  let processes: Processes | undefined;
  const redis: OwnRedis = await startOwnRedis();
  const close = async (): Promise<void> => {
    await processes?.close().catch(() => undefined);
    await redis.remove().catch(() => undefined);
  };
  try {
    processes = await startProcesses(redis.url, { dispatchers: 1, executors: options.executors }, { KUBE_WORKER_CONCURRENCY: String(options.concurrency) });
  } catch (error) {
    await close();
    throw error;
  }
  return { redisUrl: redis.url, dispatcher: processes.dispatchers[0]!.url, startSeconds: Math.round((Date.now() - started) / 100) / 10, close };
}

export async function runManyExecutors(deployment: ManyExecutors, options: Omit<ManyExecutorsOptions, 'executors' | 'concurrency'>): Promise<ManyExecutorsRun> {
  const clock = stopwatch();
  const { redisUrl, dispatcher } = deployment;
  const marker = await markerFile();

  const idleFrom = await commandCounts(redisUrl);
  await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
  const before = await commandCounts(redisUrl);
  const idleCommandsPerSecond = Math.round((totalCommands(commandsBetween(idleFrom, before)) / IDLE_WINDOW_MS) * 1000 * 10) / 10;
  clock.lap('idle');

  const load = new Load({
    dispatchers: [dispatcher],
    count: options.operations,
    clients: options.clients,
    pauseMs: 0,
    operation: countedOperation(marker, 0),
    ticketPrefix: 'many-executors',
  });
  const burstStarted = Date.now();
  await load.done;
  clock.lap('submit');
  await queueDrained(dispatcher, load.accepted.size, options.settleMs);
  const ran = commandsBetween(before, await commandCounts(redisUrl));
  const idleMeanwhile = (idleCommandsPerSecond * (Date.now() - burstStarted)) / 1000;
  clock.lap('run');

  const ledger = await settle(dispatcher, load.accepted, marker, options.settleMs);
  const { shares, unattributed } = await executorShares(dispatcher, [...load.accepted]);
  clock.lap('check');
  const operations = Math.max(1, load.accepted.size);
  return {
    load,
    figures: {
      ledger,
      shares,
      unattributed,
      commandsPerOperation: Math.round((totalCommands(ran) / operations) * 100) / 100,
      commandsPerOperationByName: commandsPer(ran, operations),
      idleCommandsPerSecond,
      commandsPerOperationBeyondIdle: Math.round(((totalCommands(ran) - idleMeanwhile) / operations) * 100) / 100,
      seconds: { start: deployment.startSeconds, ...clock.laps },
    },
  };
}
