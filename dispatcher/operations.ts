/**
 * The dispatcher's use cases: submit, read status, cancel and release an operation. Routes call
 * these; these call the stores. Nothing here knows about HTTP beyond the error codes.
 */
import { createHash, randomFillSync } from 'node:crypto';
import type { OperationRequest } from '../core/contract/operation.js';
import type { Accepted, LogLine, OperationStatus } from '../core/contract/status.js';
import { KubeWorkerError } from '../core/errors.js';
import type { LogStore } from '../core/log-store.js';
import { checkOperation, type OperationPolicy } from '../core/operation-rules.js';
import type { OperationRecord, OperationStore } from '../core/operation-store.js';
import type { FinishedOperations } from './finished-operations.js';
import type { PoolQueues } from './queues.js';

export interface OperationsDependencies {
  store: OperationStore;
  logs: LogStore;
  queues: PoolQueues;
  /** Hears operations end, so that log followers end at once. */
  finished: FinishedOperations;
  policy: OperationPolicy;
  retentionSeconds: number;
  /** Tells the executors that a started operation should stop. */
  publishCancel(ticket: string): Promise<void>;
}

const TICKET_BYTES = 15;
/**
 * Tickets draw on a pool of random bytes refilled every 256 tickets, as crypto.randomUUID does: one
 * randomBytes call per submission was a visible share of the intake's CPU (each makes a system call).
 */
const ticketEntropy = Buffer.alloc(TICKET_BYTES * 256);
let ticketEntropyUsed = ticketEntropy.length;

export function newTicket(): string {
  if (ticketEntropyUsed === ticketEntropy.length) {
    randomFillSync(ticketEntropy);
    ticketEntropyUsed = 0;
  }
  ticketEntropyUsed += TICKET_BYTES;
  return `op-${ticketEntropy.toString('base64url', ticketEntropyUsed - TICKET_BYTES, ticketEntropyUsed)}`;
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
  };
}

/**
 * Accepts an operation once. The same ticket with the same body is a retry and answers with the
 * current state; the same ticket with another body is a conflict.
 *
 * The record and the job go to Redis together, in one round trip, record first. Adding the job
 * every time is safe: BullMQ ignores a job id it still has, and an executor runs only what its
 * record says is queued — so a retry re-enqueues an operation whose first attempt stopped between
 * record and queue, and a job added next to an older record is skipped.
 */
export async function submitOperation(deps: OperationsDependencies, request: OperationRequest): Promise<{ created: boolean; accepted: Accepted }> {
  checkOperation(request, deps.policy);
  const ticket = request.ticket ?? newTicket();
  const body = JSON.stringify(request);
  const bodyHash = createHash('sha256').update(body).digest('base64url');
  const [outcome] = await Promise.all([
    deps.store.create(ticket, { bodyHash, pool: request.pool, taskId: request.taskId, payload: body, now: Date.now() }),
    deps.queues.enqueue({
      ticket,
      pool: request.pool,
      syntax: request.script.syntax,
      ...(request.taskId ? { taskId: request.taskId } : {}),
      ...(request.container?.image ? { image: request.container.image } : {}),
    }),
  ]);
  if (!outcome.created && outcome.bodyHash !== bodyHash) {
    throw new KubeWorkerError(
      'KW_ERR_TICKET_CONFLICT',
      `ticket "${ticket}" was already submitted with a different operation; use a new ticket, or send exactly the same body to retry`,
    );
  }
  return { created: outcome.created, accepted: { ticket, state: outcome.created ? 'queued' : outcome.state } };
}

export async function findOperation(deps: OperationsDependencies, ticket: string): Promise<OperationRecord> {
  const record = await deps.store.get(ticket);
  if (!record) throw new KubeWorkerError('KW_ERR_NOT_FOUND', `no operation has ticket "${ticket}" (it may have been completed with DELETE or expired)`);
  return record;
}

export async function readStatus(deps: OperationsDependencies, ticket: string, afterSequence: number, limit: number): Promise<OperationStatus> {
  // Logs are read after the record so that a finished record's lines are all there.
  const record = await findOperation(deps, ticket);
  const logs = await deps.logs.read(ticket, afterSequence, limit);
  return toStatus(record, logs, afterSequence);
}

export async function cancelOperation(deps: OperationsDependencies, ticket: string): Promise<Accepted> {
  const outcome = await deps.store.cancel(ticket, deps.retentionSeconds);
  if (outcome.kind === 'missing') throw new KubeWorkerError('KW_ERR_NOT_FOUND', `no operation has ticket "${ticket}"`);
  if (outcome.kind === 'signalled') await deps.publishCancel(ticket);
  return { ticket, state: outcome.state };
}

export async function releaseOperation(deps: OperationsDependencies, ticket: string): Promise<void> {
  const record = await findOperation(deps, ticket);
  const outcome = await deps.store.release(ticket);
  if (outcome === 'missing') throw new KubeWorkerError('KW_ERR_NOT_FOUND', `no operation has ticket "${ticket}"`);
  if (outcome === 'not-finished') {
    throw new KubeWorkerError('KW_ERR_NOT_FINISHED', `operation "${ticket}" is ${record.state}; cancel it or wait for it to finish before completing it`);
  }
  await deps.queues.remove(record.pool, ticket);
}
