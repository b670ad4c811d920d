/**
 * A runtime runs one operation's script somewhere — a local child process, or a Kubernetes Job —
 * and reports how it ended. Output goes through `output`; everything else (claiming, isolation,
 * recording the result) is the executor's.
 */
import type { OperationRequest } from '../core/contract/operation.js';
import type { Failure } from '../core/contract/status.js';
import type { ScriptOutput } from './output/script-output.js';

/** Why a run is being stopped early. */
export type StopReason = 'cancel' | 'shutdown';

export interface RunContext {
  ticket: string;
  request: OperationRequest;
  timeoutSeconds: number;
  output: ScriptOutput;
  /** Call once the script itself has started, so the operation shows as running. */
  started(): Promise<void>;
  /** Aborted with a StopReason when the operation is cancelled or the executor stops. */
  signal: AbortSignal;
}

export interface RunOutcome {
  exitCode: number;
  /** Absent when the script exited 0. */
  failure?: Failure;
}

export interface Runtime {
  readonly name: string;
  run(context: RunContext): Promise<RunOutcome>;
  /**
   * Takes over an operation whose executor was lost mid-run. A runtime that cannot find out what
   * became of the script leaves this out, and the operation fails as ExecutorLost rather than run twice.
   */
  adopt?(context: RunContext): Promise<RunOutcome>;
  /** Whether a run stopped for shutdown can be handed back to another executor. */
  readonly handsBackOnShutdown: boolean;
  close(): Promise<void>;
}
