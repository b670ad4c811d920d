/**
 * What an executor does with one delivered operation: claim it, take its isolation lock, run it in
 * the runtime, and record the outcome exactly once. Redelivered operations (their executor went
 * silent) are adopted when the runtime can find them, and otherwise failed as ExecutorLost, so that
 * a script never runs twice.
 */
import type { OperationRequest } from '../core/contract/operation.js';
import { EXIT_CODES, type Failure } from '../core/contract/status.js';
import type { LogStore } from '../core/log-store.js';
import type { Logger } from '../core/logger.js';
import type { ExecutorMetrics } from '../core/metrics.js';
import type { OperationResult, OperationStore } from '../core/operation-store.js';
import type { OperationJobData, OperationJobResult } from '../core/queue.js';
import type { CancelSignals } from './cancel-signals.js';
import { MutexTimeoutError, type Mutexes } from './isolation/mutex.js';
import { ScriptOutput } from './output/script-output.js';
import { HandBackError, type RunContext, type RunOutcome, type Runtime, type StopReason } from './runtime.js';

export interface ProcessDependencies {
  executorId: string;
  store: OperationStore;
  logs: LogStore;
  mutexes: Mutexes;
  cancels: CancelSignals;
  runtime: Runtime;
  logger: Logger;
  metrics: ExecutorMetrics;
  settings: { logMaxLines: number; retentionSeconds: number; defaultTimeoutSeconds: number };
}

function sensitiveValues(request: OperationRequest): string[] {
  return Object.values(request.variables ?? {}).filter((v) => v.sensitive).map((v) => v.value);
}

function describe(result: OperationResult): string {
  if (result.state === 'succeeded') return 'Succeeded';
  return `${result.state === 'cancelled' ? 'Cancelled' : 'Failed'} with exit code ${result.exitCode}: ${result.failure?.message ?? 'no reason given'}`;
}

function toResult(outcome: RunOutcome, output: ScriptOutput): OperationResult {
  const state = outcome.failure?.reason === 'Cancelled' ? 'cancelled' : outcome.exitCode === 0 && !outcome.failure ? 'succeeded' : 'failed';
  return { state, exitCode: outcome.exitCode, failure: outcome.failure, outputVariables: output.outputVariables };
}

const lost = (previousExecutor: string): RunOutcome => ({
  exitCode: EXIT_CODES.unknown,
  failure: {
    reason: 'ExecutorLost',
    message: `The executor running this operation (${previousExecutor || 'unknown'}) stopped without reporting a result; it is not run again so that no script runs twice`,
  },
});

async function runIsolated(request: OperationRequest, context: RunContext, adopt: boolean, deps: ProcessDependencies): Promise<RunOutcome> {
  const isolation = request.isolation;
  const mutexName = isolation?.mutexName ?? `pool:${request.pool}`;
  const mode = isolation?.level === 'full' ? 'exclusive' : 'shared';
  let lease;
  try {
    lease = await deps.mutexes.acquire(mutexName, mode, context.ticket, {
      timeoutSeconds: isolation?.mutexTimeoutSeconds ?? context.timeoutSeconds,
      signal: context.signal,
      onWait: () => context.output.system(`Waiting for ${mode === 'exclusive' ? 'exclusive' : 'shared'} use of mutex "${mutexName}"…`),
    });
  } catch (error) {
    if (error instanceof MutexTimeoutError) {
      return { exitCode: EXIT_CODES.timedOut, failure: { reason: 'MutexTimeout', message: `${error.message}; another operation held it for the whole time` } };
    }
    throw error;
  }
  if (!lease) return { exitCode: EXIT_CODES.cancelled, failure: { reason: 'Cancelled', message: 'Cancelled while waiting for its mutex' } };
  try {
    return adopt && deps.runtime.adopt ? await deps.runtime.adopt(context) : await deps.runtime.run(context);
  } finally {
    await lease.release().catch((error: unknown) => deps.logger.warn({ err: error, ticket: context.ticket }, 'could not release mutex; its lease will expire'));
  }
}

const seconds = (from: number, to: number): number => Math.max(0, to - from) / 1000;

export async function processOperation({ ticket, pool }: Pick<OperationJobData, 'ticket' | 'pool'>, deps: ProcessDependencies): Promise<OperationJobResult | null> {
  const log = deps.logger.child({ ticket });
  const { metrics } = deps;
  const claimedAt = Date.now();
  const claim = await deps.store.claim(ticket, deps.executorId, claimedAt);
  if (claim.kind === 'missing' || claim.kind === 'terminal') {
    // Cancelled while queued, or released: nothing to run and nothing to report. Counted here,
    // the one place that sees an operation cancelled before any executor took it.
    if (claim.kind === 'terminal' && claim.executor === undefined) metrics.operations.inc({ pool, outcome: claim.state, reason: 'Cancelled' });
    log.info({ claim: claim.kind }, 'operation ended before it started; skipping');
    return null;
  }
  if (claim.kind === 'claimed') metrics.queuedSeconds.observe({ pool }, seconds(claim.queuedAt, claimedAt));
  // Only a run this executor saw start is timed; an adopted one started elsewhere.
  let runningSince: number | undefined;

  const request = JSON.parse(claim.payload) as OperationRequest;
  const writer = await deps.logs.openWriter(ticket, deps.settings.logMaxLines, (stream) => metrics.logLines.inc({ pool, stream }));
  const output = new ScriptOutput(writer, sensitiveValues(request));
  const controller = deps.cancels.register(ticket);
  if (claim.cancelRequested) controller.abort('cancel' satisfies StopReason);
  const context: RunContext = {
    ticket,
    request,
    timeoutSeconds: request.timeoutSeconds ?? deps.settings.defaultTimeoutSeconds,
    output,
    started: async () => {
      if (!(await deps.store.markRunning(ticket))) return;
      runningSince = Date.now();
      metrics.pendingSeconds.observe({ pool }, seconds(claimedAt, runningSince));
    },
    signal: controller.signal,
    ...(claim.kind === 'reclaimed' ? { previousState: claim.previousState } : {}),
  };

  let outcome: RunOutcome;
  try {
    if (claim.kind === 'reclaimed' && !deps.runtime.adopt) {
      log.warn({ previousExecutor: claim.previousExecutor }, 'operation redelivered after its executor was lost');
      outcome = lost(claim.previousExecutor);
    } else {
      if (claim.kind === 'claimed') output.system(`Picked up by executor ${deps.executorId} (${deps.runtime.name} runtime)`);
      outcome = await runIsolated(request, context, claim.kind === 'reclaimed', deps);
    }
  } catch (error) {
    if (error instanceof HandBackError) {
      await output.close();
      log.info('operation handed back for another executor to adopt');
      throw error;
    }
    log.error({ err: error }, 'operation failed in the executor');
    const failure: Failure = { reason: 'RuntimeError', message: `The executor could not run the operation: ${(error as Error).message}` };
    outcome = { exitCode: EXIT_CODES.fatal, failure };
  } finally {
    deps.cancels.unregister(ticket);
  }
  const result = toResult(outcome, output);
  output.system(describe(result));
  await output.close();
  const recorded = await deps.store.finish(ticket, result, deps.settings.retentionSeconds);
  if (recorded) {
    metrics.operations.inc({ pool, outcome: result.state, reason: result.failure?.reason ?? '' });
    if (runningSince !== undefined) metrics.runSeconds.observe({ pool, outcome: result.state }, seconds(runningSince, Date.now()));
  } else {
    log.warn('the operation had already ended; its first result stands');
  }
  // Only now that the result is safe: a Job released earlier could not be told from one never made.
  await deps.runtime.release?.(ticket).catch((error: unknown) => log.warn({ err: error }, 'could not release what the run held; the sweeper will'));
  log.info({ state: result.state, exitCode: result.exitCode, reason: result.failure?.reason }, 'operation finished');
  return { ticket, state: result.state, exitCode: result.exitCode, failure: result.failure };
}
