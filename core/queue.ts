/**
 * The queue contract between dispatcher and executor. One BullMQ queue per worker pool, named after
 * the pool, under the deployment's prefix; the job id is the ticket.
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
}

export const queueName = (pool: string): string => pool;

/**
 * One attempt: a failed script is an outcome, not something to retry. Finished jobs stay for the
 * retention so the dashboard can show them, then go.
 */
export function jobOptions(ticket: string, retentionSeconds: number): JobsOptions {
  return {
    jobId: ticket,
    attempts: 1,
    removeOnComplete: { age: retentionSeconds, count: 10_000 },
    removeOnFail: { age: retentionSeconds, count: 10_000 },
  };
}
