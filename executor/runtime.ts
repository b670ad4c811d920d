/**
 * A runtime runs one operation's script somewhere — a local child process, or a Kubernetes Job —
 * and reports how it ended. Output goes through `output`; everything else (claiming, isolation,
 * recording the result) is the executor's.
 */
import type { OperationRequest } from '../core/contract/operation.js';
import type { OperationState } from '../core/contract/status.js';
import type { Outcome } from '../core/contract/outcomes.js';
import type { RunMoment } from '../core/contract/timeline.js';
import type { LogOrigin } from '../core/log-store.js';
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
  /** A moment of the operation's timeline seen now (contract/timeline.ts); the first sighting counts, later ones are ignored. */
  moment(moment: RunMoment): void;
  /** Aborted with a StopReason when the operation is cancelled or the executor stops. */
  signal: AbortSignal;
  /** On a redelivery, the state the operation had reached under the executor that was lost. */
  previousState?: OperationState;
  /** On a redelivery, where the lines stored so far end, for a runtime that follows a source again (a pod's log). */
  storedOrigin?: LogOrigin;
}

/**
 * What a runtime answers when it stops watching a run it can hand over (on shutdown): the script
 * goes on, and the operation is delivered again to an executor that adopts it.
 */
export const HANDED_BACK = { handedBack: true } as const;
export type HandedBack = typeof HANDED_BACK;

/** How the run ended (one of the catalogue's outcomes), or that it was handed back. */
export type RunOutcome = Outcome | HandedBack;

export const isHandedBack = (outcome: RunOutcome): outcome is HandedBack => 'handedBack' in outcome;

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
  /** Frees what the run still holds (e.g. its Job and Secret), once its result is recorded. */
  release?(ticket: string): Promise<void>;
  close(): Promise<void>;
}
