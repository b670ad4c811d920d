/**
 * What an executor does with one delivered operation: claim it (and see a replica keep the claim,
 * claim-kept.ts), take its isolation lock, run it in the runtime, and record the outcome exactly
 * once. Redelivered operations (their executor went
 * silent) are adopted when the runtime can find them, and otherwise failed as ExecutorLost, so that
 * a script never runs twice.
 *
 * Each delivery carries a fencing token (BullMQ's lock token, new for every delivery). The delivery
 * that claims an operation owns its run; a later one owns it only by taking it over once the owner
 * is gone, and from then on the old owner's writes are refused. So a command sent twice (its reply
 * lost in a Redis restart) is told from a second delivery, and a run has one owner at a time.
 *
 * This is the one writer of an operation's final state (through record-result.ts): runtimes only say how a run
 * ended, and the executor's stalled-job handler records through `recordStalled`. The record tells
 * every dispatcher that the operation ended (see OperationStore.recordResult).
 */
import type { OperationRequest } from '../core/contract/operation.js';
import type { LogStore, LogWriter } from '../core/log-store.js';
import { sensitiveHeaderValues } from '../core/package-layout.js';
import type { Logger } from '../core/logger.js';
import type { ExecutorMetrics } from '../core/metrics.js';
import type { Claim, RecordReply, OperationStore } from '../core/operation-store.js';
import type { OperationJobData } from '../core/queue.js';
import type { OperationRef } from '../core/keys.js';
import type { OpenSpan, SpanAttributes, Tracing } from '../core/tracing.js';
import type { CancelSignals } from './cancel-signals.js';
import { MutexTimeoutError, type Mutexes } from './isolation/mutex.js';
import { outcomes, type Outcome } from '../core/contract/outcomes.js';
import type { PreviousRun } from './previous-run.js';
import { untilRedisAnswers } from '../core/redis-retry.js';
import type { ReplicaAcks } from '../core/replica-acks.js';
import { maskedError } from './output/masked-error.js';
import { ScriptOutput } from './output/script-output.js';
import { keepClaim } from './claim-kept.js';
import { recordResult, secondsBetween, type RunIdentity } from './record-result.js';
import { RunTimeline } from './run-timeline.js';
import { HANDED_BACK, isHandedBack, type RunContext, type RunOutcome, type Runtime, type StopReason } from './runtime.js';

export interface ProcessDependencies {
  executorId: string;
  store: OperationStore;
  logs: LogStore;
  mutexes: Mutexes;
  cancels: CancelSignals;
  /** Whether the primary's replicas have what was written so far (core/replica-acks.ts). */
  replicas: Pick<ReplicaAcks, 'confirm'>;
  /** On a redelivery: waits while the previous executor may still be running it (previous-run.ts). */
  previousRun(op: OperationRef, previousExecutor: string): Promise<PreviousRun>;
  runtime: Runtime;
  logger: Logger;
  metrics: ExecutorMetrics;
  /** The operation's spans: the queue wait, the operation and, within it, its start and run. */
  tracing: Tracing;
  settings: { logMaxLines: number; logMaxBytes: number; retentionSeconds: number; defaultTimeoutSeconds: number };
}

/** The operation's log, opened where its stored lines end, counting what is written. */
function openLogWriter(op: OperationRef, deps: ProcessDependencies): Promise<LogWriter> {
  return deps.logs.openWriter(op, { maxLines: deps.settings.logMaxLines, maxBytes: deps.settings.logMaxBytes }, (stream) =>
    deps.metrics.logLines.inc({ pool: op.pool, stream }),
  );
}

/** Values never to show: sensitive variables, the content of sensitive files (masked line by line), sensitive package headers. */
function sensitiveValues(request: OperationRequest): string[] {
  const variables = Object.values(request.variables ?? {})
    .filter((v) => v.sensitive)
    .map((v) => v.value);
  const files = (request.files ?? []).filter((f) => f.sensitive).map((f) => Buffer.from(f.content, 'base64').toString('utf8'));
  return [...variables, ...files, ...sensitiveHeaderValues(request.packages)];
}

/**
 * The outcome with its failure message masked, unless that message is the product's own words: the
 * one message every later path takes (status, log, the queue's failed reason).
 */
function masked(outcome: Outcome, output: ScriptOutput): Outcome {
  if (!outcome.failure || outcome.ownWords) return outcome;
  return { ...outcome, failure: { ...outcome.failure, message: output.mask(outcome.failure.message) } };
}

// ── Isolation ─────────────────────────────────────────────────────────────────────────────────
// The run under its isolation mutex; isolation/mutex.ts states the guarantee. A wait stopped by
// shutdown hands the operation back as it came; a run handed back keeps its hold for the adopter;
// a run whose hold was lost is stopped (or, when the same operation was adopted elsewhere, left
// to the adopter).
//
// `timeoutSeconds` bounds the operation from the moment an executor picks it up: the wait for its
// mutex counts against it (`mutexTimeoutSeconds` can only shorten that wait), and the script gets
// what is left.

/** A step of the run asked again while Redis is away (core/redis-retry.ts), logged against its operation. */
type Ask = <T>(step: () => Promise<T>, doing: string) => Promise<T>;

async function runIsolated(request: OperationRequest, context: RunContext, adopt: boolean, ask: Ask, deps: ProcessDependencies): Promise<RunOutcome> {
  const op = { ticket: context.ticket, pool: request.pool };
  const isolation = request.isolation;
  const mutexName = isolation?.mutexName ?? `pool:${request.pool}`;
  const mode = isolation?.level === 'full' ? 'exclusive' : 'shared';
  const waitFrom = Date.now();
  let acquired;
  try {
    acquired = await deps.mutexes.acquire(mutexName, mode, op, {
      timeoutSeconds: Math.min(isolation?.mutexTimeoutSeconds ?? context.timeoutSeconds, context.timeoutSeconds),
      signal: context.signal,
      onWait: () => context.output.system(`Waiting for ${mode === 'exclusive' ? 'exclusive' : 'shared'} use of mutex "${mutexName}"…`),
    });
  } catch (error) {
    if (error instanceof MutexTimeoutError) return outcomes.mutexTimeout(error.message);
    throw error;
  }
  if ('stopped' in acquired) {
    if (acquired.stopped === 'cancel') return outcomes.cancelled('waiting for its mutex');
    // Nothing of it ran here: back to the queue as it came (or, when adopting, for the next adopter).
    await ask(() => (adopt ? deps.store.passOn(op, deps.executorId) : deps.store.requeue(op, deps.executorId)), 'hand the operation back');
    context.output.system(`Executor ${deps.executorId} stopped while this waited for mutex "${mutexName}"; another executor takes it`);
    return HANDED_BACK;
  }
  const { lease } = acquired;
  const stop = new AbortController();
  // Adopted elsewhere: stop following it as on shutdown (the run goes on); taken: stop the run.
  lease.lost.addEventListener('abort', () => stop.abort((lease.lost.reason === 'adopted' ? 'shutdown' : 'cancel') satisfies StopReason), { once: true });
  const left = context.timeoutSeconds - Math.floor((Date.now() - waitFrom) / 1000);
  const run: RunContext = { ...context, timeoutSeconds: Math.max(1, left), signal: AbortSignal.any([context.signal, stop.signal]) };
  let outcome: RunOutcome | undefined;
  try {
    outcome = adopt && deps.runtime.adopt ? await deps.runtime.adopt(run) : await deps.runtime.run(run);
    if (lease.lost.reason === 'adopted')
      outcome = HANDED_BACK; // the adopter records the outcome
    else if (lease.lost.aborted && !isHandedBack(outcome)) outcome = outcomes.mutexLost(mutexName);
    if (isHandedBack(outcome)) {
      // The run goes on: its hold stays for the executor that adopts it, which takes it without waiting for this one.
      lease.handOver();
      await ask(() => deps.store.passOn(op, deps.executorId), 'hand the run on');
    }
    return outcome;
  } finally {
    if (!outcome || !isHandedBack(outcome))
      await lease
        .release()
        .catch((error: unknown) => deps.logger.warn({ err: error, ticket: context.ticket }, 'could not release mutex; its lease will expire'));
  }
}
// ── end of isolation ──────────────────────────────────────────────────────────────────────────

/** What became of a delivered job: run and recorded, handed back to the queue, or not this executor's to run. */
export type Processed =
  | { kind: 'finished'; outcome: Outcome }
  /** It goes on (or never started here); the next delivery adopts it. */
  | { kind: 'handed-back' }
  /** Nothing ran. `refused`: the delivery itself was wrong (its record is of another pool). */
  | { kind: 'skipped'; why: string; refused: boolean };

/**
 * `delivery`: this delivery's fencing token. The delivery is one span of the operation's trace,
 * a child of the submission's (`traceparent`), and the Kubernetes calls made for it are its own.
 */
export async function processOperation(
  { ticket, pool, traceparent }: Pick<OperationJobData, 'ticket' | 'pool' | 'traceparent'>,
  delivery: string,
  deps: ProcessDependencies,
): Promise<Processed> {
  // Registered before the claim: a cancel published from now on reaches this run, and one
  // published earlier is in the record's flag, which the claim reads.
  const controller = deps.cancels.register({ ticket, pool });
  const attributes: SpanAttributes = {
    'kube_worker.ticket': ticket,
    'kube_worker.pool': pool,
    'kube_worker.executor': deps.executorId,
    'kube_worker.runtime': deps.runtime.name,
    'messaging.system': 'bullmq',
    'messaging.operation.type': 'process',
    'messaging.destination.name': pool,
  };
  try {
    return await deps.tracing.inSpan('operation', { kind: 'consumer', parent: traceparent, attributes }, async (span) => {
      const processed = await claimAndRun(ticket, pool, delivery, controller, deps, { span, traceparent });
      if (processed.kind !== 'finished') span.setAttributes({ 'kube_worker.outcome': processed.kind });
      return processed;
    });
  } finally {
    deps.cancels.unregister(ticket);
  }
}

/** The delivery's span, and the submission's traceparent that the queue wait hangs from. */
interface DeliveryTrace {
  span: OpenSpan;
  traceparent: string | undefined;
}

async function claimAndRun(
  ticket: string,
  pool: string,
  delivery: string,
  controller: AbortController,
  deps: ProcessDependencies,
  trace: DeliveryTrace,
): Promise<Processed> {
  const log = deps.logger.child({ ticket });
  // Every step from the claim to the result is safe to send twice (core/lua/ says why for each),
  // so an outage only delays it: the claim sent again is the same delivery's ('again').
  const ask: Ask = (step, doing) => untilRedisAnswers(step, { log, doing });
  const { metrics } = deps;
  const claimedAt = Date.now();
  const op = { ticket, pool };
  const claimAgain = (): Promise<Claim> => deps.store.claim(op, deps.executorId, delivery, claimedAt);
  const claim = await ask(claimAgain, 'claim the operation');
  if (claim.kind === 'foreign') {
    const why = `the record of ticket "${ticket}" belongs to pool "${claim.pool}", not to "${pool}" whose queue delivered it; not run`;
    log.warn({ pool, recordPool: claim.pool }, why);
    return { kind: 'skipped', why, refused: true };
  }
  if (claim.kind === 'missing' || claim.kind === 'terminal') {
    // Cancelled while queued, or released: nothing to run and nothing to report. Counted here,
    // the one place that sees an operation cancelled before any executor took it.
    if (claim.kind === 'terminal' && claim.executor === undefined) metrics.operations.inc({ pool, outcome: claim.state, reason: 'Cancelled' });
    log.info({ claim: claim.kind }, 'operation ended before it started; skipping');
    return { kind: 'skipped', why: `the operation was ${claim.kind === 'missing' ? 'released' : claim.state} before it started`, refused: false };
  }
  const spanAttributes: SpanAttributes = { 'kube_worker.ticket': ticket, 'kube_worker.pool': pool };
  if (claim.kind === 'claimed') {
    metrics.queuedSeconds.observe({ pool }, secondsBetween(claim.queuedAt, claimedAt));
    deps.tracing.record('queue wait', trace.traceparent, claim.queuedAt, claimedAt, spanAttributes);
  }
  if (claim.kind === 'reclaimed') {
    const { previousExecutor } = claim;
    const previous = previousExecutor ? await ask(() => deps.previousRun(op, previousExecutor), 'tell whether its previous executor still runs it') : 'gone';
    // Waiting took nothing: back to the queue, still the previous executor's.
    if (previous === 'closing') return { kind: 'handed-back' };
    if (previous === 'ended') {
      const why = 'delivered again, but its previous executor was still running it and recorded the outcome';
      log.info({ previousExecutor: claim.previousExecutor }, why);
      return { kind: 'skipped', why, refused: false };
    }
    const { previousDelivery } = claim;
    const taken = await ask(() => deps.store.takeOver(op, deps.executorId, delivery, previousDelivery), 'take the run over');
    if (taken !== 'taken') {
      const why = taken === 'ended' ? 'delivered again, but it has ended meanwhile' : 'delivered again, but another delivery took it over first';
      log.info({ previousExecutor: claim.previousExecutor }, why);
      return { kind: 'skipped', why, refused: false };
    }
  }
  if (!(await keepClaim(pool, delivery, claimAgain, deps.replicas, log, controller.signal))) {
    const why = "its claim was lost in a failover and is another delivery's now; not run";
    log.warn(why);
    return { kind: 'skipped', why, refused: false };
  }
  // Only a run this executor saw start is timed; an adopted one started elsewhere.
  let runningSince: number | undefined;

  const request = JSON.parse(claim.payload) as OperationRequest;
  const writer = await ask(() => openLogWriter(op, deps), 'open the log');
  const timeline = new RunTimeline(op, { store: deps.store, metrics, logger: log });
  const output = new ScriptOutput(writer, sensitiveValues(request), () => timeline.moment({ name: 'firstLine' }));
  if (claim.cancelRequested) controller.abort('cancel' satisfies StopReason);
  const context: RunContext = {
    ticket,
    request,
    timeoutSeconds: request.timeoutSeconds ?? deps.settings.defaultTimeoutSeconds,
    output,
    // Called without waiting (the script runs meanwhile), so it never throws.
    started: async () => {
      const marked = await ask(() => deps.store.markRunning(op, delivery), 'mark the operation running').catch((error: unknown) => {
        log.error({ err: error }, 'could not mark the operation running');
        return false;
      });
      if (!marked) return;
      runningSince = Date.now();
      metrics.pendingSeconds.observe({ pool }, secondsBetween(claimedAt, runningSince));
      timeline.started(runningSince);
      trace.span.addChild('start', claimedAt, runningSince, spanAttributes);
    },
    moment: (moment) => timeline.moment(moment),
    signal: controller.signal,
    ...(claim.kind === 'reclaimed' ? { previousState: claim.previousState } : {}),
    ...(writer.lastOrigin ? { storedOrigin: writer.lastOrigin } : {}),
  };

  let ran: RunOutcome;
  try {
    if (claim.kind === 'reclaimed' && !deps.runtime.adopt) {
      log.warn({ previousExecutor: claim.previousExecutor }, 'operation redelivered after its executor was lost');
      ran = outcomes.executorLost(claim.previousExecutor);
    } else {
      if (claim.kind === 'claimed') output.system(`Picked up by executor ${deps.executorId} (${deps.runtime.name} runtime)`);
      ran = await runIsolated(request, context, claim.kind === 'reclaimed', ask, deps);
    }
  } catch (error) {
    log.error({ err: maskedError(error, output) }, 'operation failed in the executor');
    ran = outcomes.executorError((error as Error).message);
  }
  if (isHandedBack(ran)) {
    await output.close();
    log.info('operation handed back for another executor to adopt');
    return { kind: 'handed-back' };
  }
  const outcome = masked(ran, output);
  await recordResult({ ticket, pool, delivery }, outcome, output, deps, runningSince);
  const ended = { ...spanAttributes, 'kube_worker.outcome': outcome.state, ...(outcome.failure ? { 'kube_worker.reason': outcome.failure.reason } : {}) };
  if (runningSince !== undefined) trace.span.addChild('run', runningSince, Date.now(), ended);
  trace.span.setAttributes(ended);
  if (outcome.failure) trace.span.fail(outcome.failure.reason);
  // Only now that the result is safe: a Job released earlier could not be told from one never made.
  await deps.runtime.release?.(ticket).catch((error: unknown) => log.warn({ err: error }, 'could not release what the run held; the sweeper will'));
  return { kind: 'finished', outcome };
}

/**
 * Ends an operation that BullMQ gave up on because its executors kept stopping while holding it:
 * no processOperation will see it again.
 */
export async function recordStalled({ ticket, pool }: Pick<OperationJobData, 'ticket' | 'pool'>, detail: string, deps: ProcessDependencies): Promise<void> {
  await recordWithoutRun({ ticket, pool, delivery: '' }, outcomes.executorStalled(detail), deps);
}

/**
 * Ends an operation whose delivery failed in the executor itself (Redis refused a write, a defect),
 * not in its run: an accepted operation must still end. Only when this delivery owns the run;
 * false when it does not (it never got as far as its claim), so the caller can deliver it again.
 */
export async function recordFault(job: Pick<OperationJobData, 'ticket' | 'pool'>, delivery: string, error: Error, deps: ProcessDependencies): Promise<boolean> {
  return (await recordWithoutRun({ ...job, delivery }, outcomes.executorError(error.message), deps)) !== 'fenced';
}

async function recordWithoutRun(run: RunIdentity, outcome: Outcome, deps: ProcessDependencies): Promise<RecordReply> {
  const writer = await untilRedisAnswers(() => openLogWriter(run, deps), { log: deps.logger.child({ ticket: run.ticket }), doing: 'open the log' });
  return recordResult(run, outcome, new ScriptOutput(writer, []), deps, undefined);
}
