/**
 * What the API reports about an operation: states, exit codes, failure reasons, log lines and the
 * status document of `GET /api/v1/operations/:ticket`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Ticket } from './operation.js';
import { Timeline } from './timeline.js';

export const STATES = ['queued', 'pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type OperationState = (typeof STATES)[number];
export const TERMINAL_STATES: ReadonlySet<OperationState> = new Set(['succeeded', 'failed', 'cancelled']);
export const isTerminal = (state: OperationState): boolean => TERMINAL_STATES.has(state);

/** Exit codes for outcomes that are not the script's own, compatible with the deployment server. */
export const EXIT_CODES = {
  /** The worker could not run the script at all (no interpreter, refused by the runtime). */
  fatal: -42,
  cancelled: -43,
  /** Timed out: the script's own timeout, a pod stuck pending, or a mutex never granted. */
  timedOut: -44,
  /** A package could not be downloaded, verified or unpacked; the script did not start. */
  packageFailed: -45,
  /** The executor running the script vanished; whether the script finished is unknown. */
  unknown: -46,
  /** The pod vanished underneath: evicted or deleted. */
  podVanished: -81,
} as const;

export const FAILURE_REASONS = [
  'ImagePullFailed',
  'Unschedulable',
  'OOMKilled',
  'Evicted',
  'DeadlineExceeded',
  'PodDeleted',
  'PodFailed',
  'Cancelled',
  'ScriptFailed',
  'RuntimeError',
  'ExecutorLost',
  'MutexTimeout',
  'PackageFailed',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const Failure = Type.Object({
  reason: Type.Union(FAILURE_REASONS.map((r) => Type.Literal(r))),
  message: Type.String(),
});
export type Failure = Static<typeof Failure>;

export const LOG_STREAMS = ['stdout', 'stderr', 'system'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

export const LogLine = Type.Object({
  seq: Type.Integer({ minimum: 1, description: 'Strictly increasing from 1.' }),
  at: Type.String({ format: 'date-time' }),
  stream: Type.Union(LOG_STREAMS.map((s) => Type.Literal(s))),
  text: Type.String(),
});
export type LogLine = Static<typeof LogLine>;

export const OutputVariable = Type.Object({ value: Type.String(), sensitive: Type.Boolean() });
export type OutputVariable = Static<typeof OutputVariable>;
export const OutputVariables = Type.Record(Type.String(), OutputVariable);
export type OutputVariables = Static<typeof OutputVariables>;

export const Timings = Type.Object({
  queuedAt: Type.String({ format: 'date-time' }),
  startedAt: Type.Optional(Type.String({ format: 'date-time' })),
  finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
});

export const OperationStatus = Type.Object(
  {
    ticket: Ticket,
    pool: Type.String(),
    taskId: Type.Optional(Type.String()),
    state: Type.Union(STATES.map((s) => Type.Literal(s))),
    exitCode: Type.Optional(Type.Integer()),
    failure: Type.Optional(Failure),
    outputVariables: Type.Optional(OutputVariables),
    logs: Type.Array(LogLine),
    nextSequence: Type.Integer({
      minimum: 0,
      description: 'Pass as afterSequence on the next call to read the lines that follow.',
    }),
    timings: Timings,
    timeline: Timeline,
  },
  { $id: 'OperationStatus' },
);
export type OperationStatus = Static<typeof OperationStatus>;

export const Accepted = Type.Object({ ticket: Ticket, state: Type.Union(STATES.map((s) => Type.Literal(s))) }, { $id: 'Accepted' });
export type Accepted = Static<typeof Accepted>;
