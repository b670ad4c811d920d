/**
 * The queue contract between dispatcher and executor. One BullMQ queue per worker pool, named after
 * the pool, under the deployment's prefix; the job id is the ticket and the nonce of its submission
 * (see jobIdFor).
 *
 * Job data carries no secret — it is what the dashboard shows. The script, files and variables stay
 * in the operation's payload key until it ends. A job completes with no value: the result is in the
 * operation's record, and a job fails (for the dashboard) when its operation did not succeed.
 */
import type { JobsOptions } from 'bullmq';
import type { ScriptSyntax } from './contract/operation.js';

export const JOB_NAME = 'operation';

export interface OperationJobData {
  ticket: string;
  pool: string;
  taskId?: string;
  syntax: ScriptSyntax;
  image?: string;
  /**
   * The W3C traceparent of the submission's span, when traces are on (core/tracing.ts): ids and
   * flags only, so that the executor's spans join the operation's trace.
   */
  traceparent?: string;
}

export const queueName = (pool: string): string => pool;

/**
 * The BullMQ job id of one submission of a ticket: `<ticket>.<nonce>`.
 *
 * BullMQ keeps a queue's own keys (`wait`, `meta`, `id`, `events`, `marker`, …) next to its jobs'
 * (`<queue>:<job id>`), and refuses ids that are all digits or hold ':'. Neither a ticket nor a
 * nonce holds '.', and none of BullMQ's keys does, so no ticket can collide with them or be
 * refused. The nonce (letters, digits, _ and -) makes a ticket reused after DELETE a new job, never
 * the old one that BullMQ may still keep and would silently ignore an add for.
 */
export const jobIdFor = (ticket: string, nonce: string): string => `${ticket}.${nonce}`;

/**
 * One attempt: a failed script is an outcome, not something to retry. Finished jobs stay for the
 * retention so the dashboard can show them, then go.
 */
export function jobOptions(jobId: string, retentionSeconds: number): JobsOptions {
  return {
    jobId,
    attempts: 1,
    removeOnComplete: { age: retentionSeconds, count: 10_000 },
    removeOnFail: { age: retentionSeconds, count: 10_000 },
  };
}
