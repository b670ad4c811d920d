/**
 * The dispatcher's use cases: submit, read status, cancel and release an operation. Routes call
 * these; these call the stores. Nothing here knows about HTTP beyond the error codes.
 */
import { createHash, randomFillSync } from 'node:crypto';
import type { OperationRequest } from '../core/contract/operation.js';
import type { Accepted, LogLine, OperationStatus } from '../core/contract/status.js';
import { MOMENTS, type Moment, type Timeline } from '../core/contract/timeline.js';
import { KubeWorkerError } from '../core/errors.js';
import type { LogStore } from '../core/log-store.js';
import { checkOperation, type OperationPolicy } from '../core/operation-rules.js';
import type { OperationRef } from '../core/keys.js';
import type { OperationRecord, OperationStore, RecordedTimeline } from '../core/operation-store.js';
import { jobIdFor, type OperationJobData } from '../core/queue.js';
import type { Logger } from '../core/logger.js';
import type { Tracing } from '../core/tracing.js';
import type { FinishedOperations } from './finished-operations.js';
import type { PoolQueues } from './queues.js';
import type { ReplicaAcks } from '../core/replica-acks.js';

export interface OperationsDependencies {
  store: OperationStore;
  logs: LogStore;
  queues: PoolQueues;
  /** Hears operations end, so that log followers end at once. */
  finished: FinishedOperations;
  /** Waits until the replicas have what the submission wrote (core/replica-acks.ts). */
  replicas: Pick<ReplicaAcks, 'confirm'>;
  policy: OperationPolicy;
  retentionSeconds: number;
  /** Tells the executors that a started operation should stop. */
  publishCancel(op: OperationRef): Promise<void>;
  /** For what goes wrong after the answer has left (cleaning up a failed submission or a released job). */
  log: Pick<Logger, 'warn'>;
  /** The submission's span, which begins each operation's trace. */
  tracing: Tracing;
}

const TICKET_BYTES = 15;
const NONCE_BYTES = 6;
/**
 * Tickets and nonces draw on a pool of random bytes refilled now and then, as crypto.randomUUID
 * does: one randomBytes call per submission was a visible share of the intake's CPU (each makes a
 * system call).
 */
const entropy = Buffer.alloc(4096);
let entropyUsed = entropy.length;

function randomText(bytes: number): string {
  if (entropyUsed + bytes > entropy.length) {
    randomFillSync(entropy);
    entropyUsed = 0;
  }
  entropyUsed += bytes;
  return entropy.toString('base64url', entropyUsed - bytes, entropyUsed);
}

export const newTicket = (): string => `op-${randomText(TICKET_BYTES)}`;

/** Background clean-ups retry this often, a second apart and more, before they give up and say so. */
const CLEANUP_ATTEMPTS = 8;

/** Runs `step` until it reports done, backing off; logs once when it never does. */
function retryInBackground(deps: OperationsDependencies, what: string, context: Record<string, string>, step: () => Promise<boolean>): void {
  void (async () => {
    let lastError: unknown;
    for (let attempt = 1; attempt <= CLEANUP_ATTEMPTS; attempt += 1) {
      try {
        if (await step()) return;
        lastError = undefined;
      } catch (error) {
        lastError = error;
      }
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** Math.min(attempt, 4)).unref());
    }
    deps.log.warn({ ...context, err: lastError }, `${what} did not succeed after ${CLEANUP_ATTEMPTS} attempts`);
  })();
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function toStatus(record: OperationRecord, logs: LogLine[], afterSequence: number): OperationStatus {
  return {
    ticket: record.ticket,
    pool: record.pool,
    ...(record.taskId ? { taskId: record.taskId } : {}),
    state: record.state,
    ...(record.exitCode !== undefined ? { exitCode: record.exitCode } : {}),
    ...(record.failure ? { failure: record.failure } : {}),
    ...(record.outputVariables ? { outputVariables: record.outputVariables } : {}),
    logs,
    nextSequence: logs.length > 0 ? logs[logs.length - 1]!.seq : afterSequence,
    timings: {
      queuedAt: iso(record.queuedAt)!,
      ...(record.startedAt ? { startedAt: iso(record.startedAt) } : {}),
      ...(record.finishedAt ? { finishedAt: iso(record.finishedAt) } : {}),
    },
    timeline: toTimeline(record.timeline),
  };
}

/** The moments in the order they happen, as date-times. */
export function toTimeline({ imagePullSeconds, ...moments }: RecordedTimeline): Timeline {
  const timeline: Partial<Record<Moment, string>> = {};
  for (const moment of MOMENTS) if (moments[moment] !== undefined) timeline[moment] = iso(moments[moment]);
  const { accepted, queued, ...rest } = timeline;
  return { accepted: accepted!, queued: queued!, ...rest, ...(imagePullSeconds !== undefined ? { imagePullSeconds } : {}) };
}

/**
 * Accepts an operation once. The same ticket with the same body is a retry and answers with the
 * current state; the same ticket with another body is a conflict, and enqueues nothing.
 *
 * Everything is checked before anything is written. Then the record, then the job (jobIdFor: an id
 * BullMQ can neither refuse nor confuse with its own keys). When the job cannot be added, the
 * record is taken back, so no record waits for a job that never comes; should even that fail (Redis
 * gone), a retry with the same body adds the job of the record it finds still queued — BullMQ
 * ignores an id it already has, and an executor runs only what its record says is queued.
 *
 * The answer, new or a retry, waits until a replica has the record and the job (replica-acks.ts):
 * what is acknowledged survives a failover. A retry that finds the record confirms it the same way.
 *
 * `receivedAt`: when the request reached the dispatcher, the timeline's `accepted`; `traceparent`:
 * the submission's span, carried by the job to the executor (core/tracing.ts).
 */
export async function submitOperation(
  deps: OperationsDependencies,
  request: OperationRequest,
  receivedAt = Date.now(),
  traceparent?: string,
): Promise<{ created: boolean; accepted: Accepted }> {
  checkOperation(request, deps.policy);
  const ticket = request.ticket ?? newTicket();
  const body = JSON.stringify(request);
  const bodyHash = createHash('sha256').update(body).digest('base64url');
  const jobId = jobIdFor(ticket, randomText(NONCE_BYTES));
  const data: OperationJobData = {
    ticket,
    pool: request.pool,
    syntax: request.script.syntax,
    ...(request.taskId ? { taskId: request.taskId } : {}),
    ...(request.container?.image ? { image: request.container.image } : {}),
    ...(traceparent ? { traceparent } : {}),
  };
  const op = { ticket, pool: request.pool };
  const outcome = await deps.store.create(op, { bodyHash, taskId: request.taskId, payload: body, jobId, now: Date.now(), acceptedAt: receivedAt });
  if (!outcome.created) {
    if ('otherPool' in outcome || outcome.bodyHash !== bodyHash) {
      throw new KubeWorkerError(
        'KW_ERR_TICKET_CONFLICT',
        `ticket "${ticket}" was already submitted with a different operation; use a new ticket, or send exactly the same body to retry`,
      );
    }
    if (outcome.state === 'queued' && outcome.jobId) await deps.queues.enqueue(data, outcome.jobId);
    await confirmKept(deps, op);
    return { created: false, accepted: { ticket, state: outcome.state } };
  }
  try {
    await deps.queues.enqueue(data, jobId);
  } catch (error) {
    // Sent after the add on the same connection, so it runs after the add if the add runs at all.
    retryInBackground(deps, 'taking back the record of a submission whose job could not be added', { ticket }, async () => {
      // An add that failed inside Redis may leave the job's hash half written (a script's writes
      // before its error stay): a job in no state of the queue is no job, and would keep the record.
      if ((await deps.queues.jobState(request.pool, jobId)) === 'unknown') await deps.queues.remove(request.pool, jobId);
      await deps.store.abandon(op, jobId, deps.queues.jobKey(request.pool, jobId));
      return true;
    });
    throw error;
  }
  await confirmKept(deps, op);
  return { created: true, accepted: { ticket, state: 'queued' } };
}

/** A 503 when no replica confirmed the submission in time: it may or may not be kept. */
async function confirmKept(deps: OperationsDependencies, { ticket, pool }: OperationRef): Promise<void> {
  if (await deps.replicas.confirm(pool)) return;
  throw new KubeWorkerError(
    'KW_ERR_NOT_REPLICATED',
    `operation "${ticket}" reached the primary Redis, but no replica confirmed it in time: it may or may not be kept (a failover now would lose it). ` +
      'Retrying with the same ticket and the same body is safe: it is accepted once, and answered when a replica has it.',
  );
}

/** The operation a ticket names, wherever its pool keeps it: 404 when none does. */
export async function findOperation(deps: OperationsDependencies, ticket: string): Promise<OperationRecord> {
  const op = await deps.store.locate(ticket);
  const record = op && (await deps.store.get(op));
  if (!record) throw new KubeWorkerError('KW_ERR_NOT_FOUND', `no operation has ticket "${ticket}" (it may have been completed with DELETE or expired)`);
  return record;
}

export async function readStatus(deps: OperationsDependencies, ticket: string, afterSequence: number, limit: number): Promise<OperationStatus> {
  // Logs are read after the record so that a finished record's lines are all there.
  const record = await findOperation(deps, ticket);
  const logs = await deps.logs.read(record, afterSequence, limit);
  return toStatus(record, logs, afterSequence);
}

/** `ended`: the operation had finished before, and the cancel changed nothing. */
export async function cancelOperation(deps: OperationsDependencies, ticket: string): Promise<{ ended: boolean; accepted: Accepted }> {
  const op = await deps.store.locate(ticket);
  const outcome = op ? await deps.store.cancel(op, deps.retentionSeconds) : ({ kind: 'missing' } as const);
  if (!op || outcome.kind === 'missing') throw new KubeWorkerError('KW_ERR_NOT_FOUND', `no operation has ticket "${ticket}"`);
  if (outcome.kind === 'signalled') await deps.publishCancel(op);
  return { ended: outcome.kind === 'finished', accepted: { ticket, state: outcome.state } };
}

export async function releaseOperation(deps: OperationsDependencies, ticket: string): Promise<void> {
  const record = await findOperation(deps, ticket);
  const outcome = await deps.store.release(record);
  if (outcome === 'missing') throw new KubeWorkerError('KW_ERR_NOT_FOUND', `no operation has ticket "${ticket}"`);
  if (outcome === 'not-finished') {
    throw new KubeWorkerError('KW_ERR_NOT_FINISHED', `operation "${ticket}" is ${record.state}; cancel it or wait for it to finish before completing it`);
  }
  // The executor completes its job a moment after it stores the result; until then the job is locked.
  const jobId = record.jobId ?? ticket;
  retryInBackground(deps, 'removing the job of a released operation', { ticket, jobId }, () => deps.queues.remove(record.pool, jobId));
}
