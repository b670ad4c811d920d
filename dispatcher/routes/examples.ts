/** Examples of the API's answers, shown with each operation in the OpenAPI document. */
import type { Accepted, OperationStatus } from '../../core/contract/status.js';
import type { QueueDepths } from '../../core/contract/queues.js';
import type { WorkerHealth } from '../../core/contract/worker.js';
import type { Example } from './responses.js';

const example = <T>(summary: string, value: T): Example => ({ summary, value });

export const TICKET = 'deploy-42-step-3';
export const OPERATION_PATH = `/api/v1/operations/${TICKET}`;

export const accepted = (summary: string, state: Accepted['state']): Record<string, Example> => ({
  [state]: example<Accepted>(summary, { ticket: TICKET, state }),
});

export const STATUS_EXAMPLES: Record<string, Example> = {
  failed: example<OperationStatus>('Finished: the script exited with code 3', {
    ticket: TICKET,
    pool: 'default',
    taskId: 'ServerTasks-1234',
    state: 'failed',
    exitCode: 3,
    failure: { reason: 'ScriptFailed', message: 'The script exited with code 3' },
    outputVariables: { Version: { value: '1.4.2', sensitive: false }, ApiKey: { value: '********', sensitive: true } },
    logs: [
      { seq: 1, at: '2026-12-06T10:00:01.120Z', stream: 'system', text: 'Picked up by executor executor-7f9c (local runtime)' },
      { seq: 2, at: '2026-12-06T10:00:01.180Z', stream: 'stdout', text: 'deploying' },
      { seq: 3, at: '2026-12-06T10:00:01.240Z', stream: 'system', text: 'The script exited with code 3' },
    ],
    nextSequence: 3,
    timings: { queuedAt: '2026-12-06T10:00:01.020Z', startedAt: '2026-12-06T10:00:01.150Z', finishedAt: '2026-12-06T10:00:01.235Z' },
    timeline: {
      accepted: '2026-12-06T10:00:01.018Z',
      queued: '2026-12-06T10:00:01.020Z',
      picked: '2026-12-06T10:00:01.112Z',
      started: '2026-12-06T10:00:01.150Z',
      firstLine: '2026-12-06T10:00:01.180Z',
      scriptEnded: '2026-12-06T10:00:01.226Z',
      recorded: '2026-12-06T10:00:01.235Z',
    },
  }),
  running: example<OperationStatus>('Running on Kubernetes, read with afterSequence=2: no new line yet', {
    ticket: TICKET,
    pool: 'default',
    state: 'running',
    logs: [],
    nextSequence: 2,
    timings: { queuedAt: '2026-12-06T10:00:01.020Z', startedAt: '2026-12-06T10:00:04.310Z' },
    timeline: {
      accepted: '2026-12-06T10:00:01.018Z',
      queued: '2026-12-06T10:00:01.020Z',
      picked: '2026-12-06T10:00:01.112Z',
      jobCreated: '2026-12-06T10:00:01.161Z',
      podScheduled: '2026-12-06T10:00:01.204Z',
      imagePulled: '2026-12-06T10:00:03.950Z',
      imagePullSeconds: 2.71,
      started: '2026-12-06T10:00:04.310Z',
      firstLine: '2026-12-06T10:00:04.402Z',
    },
  }),
};

export const LOG_STREAM_EXAMPLES: Record<string, Example> = {
  ended: example(
    'Two lines, then the end',
    'id: 1\nevent: log\ndata: {"seq":1,"at":"2026-12-06T10:00:01.120Z","stream":"system","text":"Picked up by executor executor-7f9c (local runtime)"}\n\n' +
      'id: 2\nevent: log\ndata: {"seq":2,"at":"2026-12-06T10:00:01.180Z","stream":"stdout","text":"deploying"}\n\n' +
      'event: end\ndata: {"ticket":"deploy-42-step-3","state":"succeeded","exitCode":0,"nextSequence":2}\n\n',
  ),
};

export const WORKER_EXAMPLES: Record<string, Example> = {
  healthy: example<WorkerHealth>('One executor serving the only pool', {
    version: '0.1.0',
    pools: ['default'],
    healthy: true,
    executors: [{ id: 'executor-7f9c', pools: ['default'], runtime: 'local', concurrency: 4, version: '0.1.0', problems: [] }],
    problems: [],
  }),
  unhealthy: example<WorkerHealth>('No executor online', {
    version: '0.1.0',
    pools: ['default'],
    healthy: false,
    executors: [],
    problems: ['no executor online for pool "default"'],
  }),
};

export const QUEUES_EXAMPLES: Record<string, Example> = {
  busy: example<QueueDepths>('A pool with operations waiting', { pools: [{ pool: 'default', waiting: 3, active: 4, completed: 120, failed: 2, delayed: 0 }] }),
};
