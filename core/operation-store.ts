/**
 * The record of each operation in Redis: its state, timings and result, and (until it ends) its full
 * request. Every transition is one Lua script, so that submit, claim, cancel and the result never race:
 * whichever comes first wins and the others see its outcome. Each script that ends an operation
 * also publishes its ticket on `<prefix>:finished`.
 *
 *   state  queued → pending (an executor took it) → running (the script started) → succeeded | failed | cancelled
 */
import type { Redis } from 'ioredis';
import { describeOutcome, outcomes, type Outcome } from './contract/outcomes.js';
import type { Failure, OperationState, OutputVariables } from './contract/status.js';
import type { RunMoment } from './contract/timeline.js';
import type { Keys } from './keys.js';
import { encodeLine } from './log-store.js';
import { withLuaCommands } from './lua-commands.js';
import { momentFields, recordedTimeline, type RecordedTimeline } from './timeline-record.js';

export type { RecordedTimeline };

export interface OperationRecord {
  ticket: string;
  pool: string;
  taskId?: string;
  state: OperationState;
  bodyHash: string;
  queuedAt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  failure?: Failure;
  outputVariables?: OutputVariables;
  cancelRequested: boolean;
  executor?: string;
  /** The fencing token of the delivery that owns the run (see OperationStore.claim). */
  delivery?: string;
  /** The BullMQ job id this submission was enqueued with (jobIdFor); absent on records older than it. */
  jobId?: string;
  /** The moments seen so far (ms), see contract/timeline.ts. */
  timeline: RecordedTimeline;
}

export interface OperationResult extends Outcome {
  outputVariables?: OutputVariables;
}

export type CreateReply = { created: true } | { created: false; state: OperationState; bodyHash: string; jobId: string | undefined };

export type Claim =
  | { kind: 'missing' }
  /** The record belongs to another pool than the queue that delivered it: not this job's to run. */
  | { kind: 'foreign'; pool: string }
  /** `executor`: the last one that held it; undefined when none did (it was cancelled while queued). */
  | { kind: 'terminal'; state: OperationState; executor: string | undefined }
  /** First delivery: the executor owns it now. */
  | { kind: 'claimed'; payload: string; cancelRequested: boolean; queuedAt: number }
  /**
   * Delivered again while another delivery owns it (its executor went silent, or handed it back):
   * nothing changed. The run is this delivery's only once `takeOver` succeeds.
   */
  | { kind: 'reclaimed'; payload: string; cancelRequested: boolean; previousState: OperationState; previousExecutor: string; previousDelivery: string };

/** `again`: this delivery had recorded it already (the same command, sent again after a reconnect). */
export type RecordReply = 'recorded' | 'again' | 'ended' | 'fenced';

export type TakeOverReply = 'taken' | 'ended' | 'lost';

/** `finished`: it had ended already, untouched; `cancelled`: it was queued and is cancelled now; `signalled`: its executor is told to stop it. */
export type CancelReply =
  { kind: 'missing' } | { kind: 'finished'; state: OperationState } | { kind: 'cancelled'; state: 'cancelled' } | { kind: 'signalled'; state: OperationState };

export type ReleaseReply = 'released' | 'missing' | 'not-finished';

/** The replies of the commands in ./lua/ (each file states its KEYS and ARGV). */
type Commands = {
  kwCreate: string[];
  kwAbandon: number;
  kwClaim: string[];
  kwTakeOver: TakeOverReply;
  kwMarkRunning: number;
  kwRecordResult: RecordReply;
  kwCancel: string[];
  kwRequeue: number;
  kwPassOn: number;
  kwRelease: ReleaseReply;
  kwMoment: number;
};

const LUA = new URL('./lua/', import.meta.url);

const toNumber = (value: string | undefined): number | undefined => (value === undefined || value === '' ? undefined : Number(value));

export class OperationStore {
  private readonly redis;

  constructor(
    redis: Redis,
    private readonly keys: Keys,
  ) {
    this.redis = withLuaCommands<Commands>(redis, LUA);
  }

  /** `acceptedAt`: when the submission reached the dispatcher; `now` by default. */
  async create(
    ticket: string,
    fields: { bodyHash: string; pool: string; taskId?: string; payload: string; jobId: string; now: number; acceptedAt?: number },
  ): Promise<CreateReply> {
    const reply = await this.redis.kwCreate(
      this.keys.operation(ticket),
      this.keys.payload(ticket),
      fields.bodyHash,
      fields.pool,
      fields.taskId ?? '',
      fields.now,
      fields.payload,
      fields.jobId,
      fields.acceptedAt ?? fields.now,
    );
    if (reply[0] === 'created') return { created: true };
    return { created: false, state: reply[1] as OperationState, bodyHash: reply[2] ?? '', jobId: reply[3] || undefined };
  }

  /** Removes a record still queued under `jobId` (its job was never added); false when there is none. */
  /** `jobKey`: the hash of the submission's BullMQ job; while it exists the record stays. */
  async abandon(ticket: string, jobId: string, jobKey: string): Promise<boolean> {
    return (await this.redis.kwAbandon(this.keys.operation(ticket), this.keys.payload(ticket), jobKey, jobId)) === 1;
  }

  async get(ticket: string): Promise<OperationRecord | undefined> {
    const hash = await this.redis.hgetall(this.keys.operation(ticket));
    if (!hash.state) return undefined;
    return {
      ticket,
      pool: hash.pool ?? '',
      taskId: hash.taskId,
      state: hash.state as OperationState,
      bodyHash: hash.hash ?? '',
      queuedAt: Number(hash.queuedAt),
      startedAt: toNumber(hash.startedAt),
      finishedAt: toNumber(hash.finishedAt),
      exitCode: toNumber(hash.exitCode),
      failure: hash.failure ? (JSON.parse(hash.failure) as Failure) : undefined,
      outputVariables: hash.outputs ? (JSON.parse(hash.outputs) as OutputVariables) : undefined,
      cancelRequested: hash.cancel === '1',
      executor: hash.executor,
      delivery: hash.delivery,
      jobId: hash.job,
      timeline: recordedTimeline(hash),
    };
  }

  async state(ticket: string): Promise<OperationState | undefined> {
    return ((await this.redis.hget(this.keys.operation(ticket), 'state')) ?? undefined) as OperationState | undefined;
  }

  /**
   * Claims the operation for an executor, provided the record is of `pool`, the delivering queue's.
   * `delivery` is the fencing token of this delivery (BullMQ's lock token, new for each one): the
   * delivery that claims a queued operation owns its run, and only the owner marks it running and
   * records its result. Another delivery owns it only through `takeOver`.
   */
  async claim(ticket: string, pool: string, executorId: string, delivery: string, now = Date.now()): Promise<Claim> {
    const reply = await this.redis.kwClaim(this.keys.operation(ticket), this.keys.payload(ticket), executorId, now, pool, delivery);
    switch (reply[0]) {
      case 'missing':
        return { kind: 'missing' };
      case 'foreign':
        return { kind: 'foreign', pool: reply[1] ?? '' };
      case 'terminal':
        return { kind: 'terminal', state: reply[1] as OperationState, executor: reply[2] || undefined };
      case 'claimed':
        return { kind: 'claimed', payload: reply[1] ?? '', cancelRequested: reply[2] === '1', queuedAt: Number(reply[3]) };
      default:
        return {
          kind: 'reclaimed',
          payload: reply[1] ?? '',
          cancelRequested: reply[2] === '1',
          previousState: reply[3] as OperationState,
          previousExecutor: reply[4] ?? '',
          previousDelivery: reply[5] ?? '',
        };
    }
  }

  /**
   * Makes `delivery` the owner of a run that `previousDelivery` owned (its executor is gone, or
   * handed it back). `lost`: another delivery took it first; `ended`: it has a result already.
   */
  async takeOver(ticket: string, executorId: string, delivery: string, previousDelivery: string): Promise<TakeOverReply> {
    return this.redis.kwTakeOver(this.keys.operation(ticket), executorId, delivery, previousDelivery);
  }

  async markRunning(ticket: string, delivery: string, now = Date.now()): Promise<boolean> {
    return (await this.redis.kwMarkRunning(this.keys.operation(ticket), now, delivery)) === 1;
  }

  /**
   * Records a moment of the run the first time it is seen (a moment seen again keeps its first
   * time), until the operation ends. False when it was not written.
   */
  async moment(ticket: string, moment: RunMoment, at = Date.now()): Promise<boolean> {
    return (await this.redis.kwMoment(this.keys.operation(ticket), ...momentFields(moment, at))) === 1;
  }

  /** Those of `tickets` whose cancellation was asked for. */
  async cancelsRequested(tickets: readonly string[]): Promise<string[]> {
    const pipeline = this.redis.pipeline();
    for (const ticket of tickets) pipeline.hget(this.keys.operation(ticket), 'cancel');
    const replies = (await pipeline.exec()) ?? [];
    return tickets.filter((_ticket, i) => replies[i]?.[1] === '1');
  }

  /**
   * Records the outcome once, and in the same step ends the log with the line that says it and
   * publishes the ticket on the finished channel, so that dispatchers following its log end at once.
   * Only for the delivery that owns the run (`fenced` otherwise); `delivery` '' records whoever owns it.
   */
  async recordResult(ticket: string, delivery: string, result: OperationResult, retentionSeconds: number, now = Date.now()): Promise<RecordReply> {
    return this.redis.kwRecordResult(
      this.keys.operation(ticket),
      this.keys.payload(ticket),
      this.keys.log(ticket),
      result.state,
      result.exitCode,
      result.failure ? JSON.stringify(result.failure) : '',
      result.outputVariables && Object.keys(result.outputVariables).length > 0 ? JSON.stringify(result.outputVariables) : '',
      now,
      retentionSeconds,
      this.keys.finishedChannel,
      ticket,
      delivery,
      ...encodeLine('system', describeOutcome(result), now),
    );
  }

  /** A queued operation is cancelled at once; a started one is flagged for its executor to stop. */
  async cancel(ticket: string, retentionSeconds: number, now = Date.now()): Promise<CancelReply> {
    const cancelled = outcomes.cancelled('before start');
    const reply = await this.redis.kwCancel(
      this.keys.operation(ticket),
      this.keys.payload(ticket),
      this.keys.log(ticket),
      now,
      retentionSeconds,
      cancelled.exitCode,
      JSON.stringify(cancelled.failure),
      this.keys.finishedChannel,
      ticket,
      ...encodeLine('system', describeOutcome(cancelled), now),
    );
    if (reply[0] === 'missing') return { kind: 'missing' };
    if (reply[0] === 'cancelled') return { kind: 'cancelled', state: 'cancelled' };
    return { kind: reply[0] as 'finished' | 'signalled', state: reply[1] as OperationState };
  }

  /**
   * Undoes this executor's claim of an operation whose script it never started (it was handed back
   * while waiting for its mutex), so the next executor claims it afresh instead of taking it as lost.
   */
  async requeue(ticket: string, executorId: string): Promise<boolean> {
    return (await this.redis.kwRequeue(this.keys.operation(ticket), executorId)) === 1;
  }

  /**
   * Passes an unfinished operation whose run was handed back on to no one: the next delivery takes
   * it over without waiting for this executor.
   */
  async passOn(ticket: string, executorId: string): Promise<boolean> {
    return (await this.redis.kwPassOn(this.keys.operation(ticket), executorId)) === 1;
  }

  /** Deletes the record and logs of a finished operation. */
  async release(ticket: string): Promise<ReleaseReply> {
    return this.redis.kwRelease(this.keys.operation(ticket), this.keys.payload(ticket), this.keys.log(ticket));
  }
}
