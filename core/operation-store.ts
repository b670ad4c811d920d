/**
 * The record of each operation in Redis: its state, timings and result, and (until it ends) its full
 * request. Every transition is one Lua script, so that submit, claim, cancel and the result never race:
 * whichever comes first wins and the others see its outcome. Each script that ends an operation
 * also publishes its ticket on its pool's `finished` channel.
 *
 * A record lives in its pool's hash slot (core/keys.ts), so every method names the operation with
 * its pool (an OperationRef). Who knows only the ticket (the API) asks `locate` first: the ticket
 * index names the pool of each ticket, and is kept here beside the record it points to.
 *
 *   state  queued → pending (an executor took it) → running (the script started) → succeeded | failed | cancelled
 */
import { publishCommand } from './channels.js';
import { describeOutcome, outcomes, type Outcome } from './contract/outcomes.js';
import type { Failure, OperationState, OutputVariables } from './contract/status.js';
import type { RunMoment } from './contract/timeline.js';
import type { Keys, OperationRef } from './keys.js';
import { encodeLine } from './log-store.js';
import { withLuaCommands } from './lua-commands.js';
import type { RedisClient } from './redis.js';
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

export type CreateReply =
  | { created: true }
  | { created: false; state: OperationState; bodyHash: string; jobId: string | undefined }
  /** The ticket is another pool's (its record, or a submission of it under way there). */
  | { created: false; otherPool: string };

export type Claim =
  | { kind: 'missing' }
  /** The record belongs to another pool than the queue that delivered it: not this job's to run. */
  | { kind: 'foreign'; pool: string }
  /** `executor`: the last one that held it; undefined when none did (it was cancelled while queued). */
  | { kind: 'terminal'; state: OperationState; executor: string | undefined }
  /** First delivery: the executor owns it now. `again`: this delivery had claimed it already (nothing written now). */
  | { kind: 'claimed'; payload: string; cancelRequested: boolean; queuedAt: number; again: boolean }
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
  kwRecordResult: [RecordReply, string];
  kwCancel: string[];
  kwRequeue: number;
  kwPassOn: number;
  kwRelease: [ReleaseReply, string?];
  kwTicketClaim: [string, string, string];
  kwTicketOwn: number;
  kwTicketEnd: number;
  kwMoment: number;
};

/** How long a ticket's index entry lives when its submission never creates the record (the dispatcher died). */
const CLAIM_TTL_MS = 10 * 60_000;
/**
 * An index entry that names another pool where no record is, is a submission under way there for
 * this long; past it, it was left behind (its dispatcher died between the two writes) and is replaced.
 */
const CLAIM_UNDER_WAY_MS = 60_000;

const LUA = new URL('./lua/', import.meta.url);

const toNumber = (value: string | undefined): number | undefined => (value === undefined || value === '' ? undefined : Number(value));

export class OperationStore {
  private readonly redis;

  private readonly publish: 'publish' | 'spublish';

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
  ) {
    this.redis = withLuaCommands<Commands>(redis, LUA);
    this.publish = publishCommand(redis);
  }

  /**
   * Creates the record in its pool, once per ticket. The ticket's index entry is claimed first
   * (another pool's ticket is refused there), and names the record once it exists.
   * `acceptedAt`: when the submission reached the dispatcher; `now` by default.
   */
  async create(
    op: OperationRef,
    fields: { bodyHash: string; taskId?: string; payload: string; jobId: string; now: number; acceptedAt?: number },
  ): Promise<CreateReply> {
    const holder = await this.claimTicket(op, fields.jobId, fields.now);
    if (holder !== op.pool) return { created: false, otherPool: holder };
    const k = this.keys.pool(op.pool);
    const reply = await this.redis.kwCreate(
      k.operation(op.ticket),
      k.payload(op.ticket),
      fields.bodyHash,
      op.pool,
      fields.taskId ?? '',
      fields.now,
      fields.payload,
      fields.jobId,
      fields.acceptedAt ?? fields.now,
    );
    if (reply[0] === 'created') {
      await this.redis.kwTicketOwn(this.keys.ticket(op.ticket), op.pool, fields.jobId, fields.now);
      return { created: true };
    }
    return { created: false, state: reply[1] as OperationState, bodyHash: reply[2] ?? '', jobId: reply[3] || undefined };
  }

  /** The pool whose submission holds the ticket now: `op.pool` when it is free or already this pool's. */
  private async claimTicket(op: OperationRef, jobId: string, now: number): Promise<string> {
    const index = this.keys.ticket(op.ticket);
    const [pool, job, at] = await this.redis.kwTicketClaim(index, op.pool, jobId, now, CLAIM_TTL_MS, '');
    if (pool === op.pool) return pool;
    // Another pool's: its record, or its submission under way; else an entry left behind, replaced.
    if ((await this.redis.exists(this.keys.pool(pool).operation(op.ticket))) === 1 || now - Number(at) < CLAIM_UNDER_WAY_MS) return pool;
    const [after] = await this.redis.kwTicketClaim(index, op.pool, jobId, now, CLAIM_TTL_MS, job);
    return after;
  }

  /** The operation a ticket names (its pool read from the ticket index), or undefined when none does. */
  async locate(ticket: string): Promise<OperationRef | undefined> {
    const pool = await this.redis.hget(this.keys.ticket(ticket), 'pool');
    return pool ? { ticket, pool } : undefined;
  }

  /** Removes a record still queued under `jobId` (its job was never added); false when there is none. */
  /** `jobKey`: the hash of the submission's BullMQ job; while it exists the record stays. */
  async abandon(op: OperationRef, jobId: string, jobKey: string): Promise<boolean> {
    const k = this.keys.pool(op.pool);
    const removed = (await this.redis.kwAbandon(k.operation(op.ticket), k.payload(op.ticket), jobKey, jobId)) === 1;
    if (removed) await this.redis.kwTicketEnd(this.keys.ticket(op.ticket), jobId, 0);
    return removed;
  }

  async get(op: OperationRef): Promise<OperationRecord | undefined> {
    const hash = await this.redis.hgetall(this.keys.pool(op.pool).operation(op.ticket));
    if (!hash.state) return undefined;
    return {
      ticket: op.ticket,
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

  async state(op: OperationRef): Promise<OperationState | undefined> {
    return ((await this.redis.hget(this.keys.pool(op.pool).operation(op.ticket), 'state')) ?? undefined) as OperationState | undefined;
  }

  /**
   * Claims the operation for an executor, provided the record is of `pool`, the delivering queue's.
   * `delivery` is the fencing token of this delivery (BullMQ's lock token, new for each one): the
   * delivery that claims a queued operation owns its run, and only the owner marks it running and
   * records its result. Another delivery owns it only through `takeOver`.
   */
  async claim(op: OperationRef, executorId: string, delivery: string, now = Date.now()): Promise<Claim> {
    const k = this.keys.pool(op.pool);
    const reply = await this.redis.kwClaim(k.operation(op.ticket), k.payload(op.ticket), executorId, now, op.pool, delivery);
    switch (reply[0]) {
      case 'missing':
        return { kind: 'missing' };
      case 'foreign':
        return { kind: 'foreign', pool: reply[1] ?? '' };
      case 'terminal':
        return { kind: 'terminal', state: reply[1] as OperationState, executor: reply[2] || undefined };
      case 'claimed':
        return { kind: 'claimed', payload: reply[1] ?? '', cancelRequested: reply[2] === '1', queuedAt: Number(reply[3]), again: reply[4] === 'again' };
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
  async takeOver(op: OperationRef, executorId: string, delivery: string, previousDelivery: string): Promise<TakeOverReply> {
    return this.redis.kwTakeOver(this.keys.pool(op.pool).operation(op.ticket), executorId, delivery, previousDelivery);
  }

  async markRunning(op: OperationRef, delivery: string, now = Date.now()): Promise<boolean> {
    return (await this.redis.kwMarkRunning(this.keys.pool(op.pool).operation(op.ticket), now, delivery)) === 1;
  }

  /**
   * Records a moment of the run the first time it is seen (a moment seen again keeps its first
   * time), until the operation ends. False when it was not written.
   */
  async moment(op: OperationRef, moment: RunMoment, at = Date.now()): Promise<boolean> {
    return (await this.redis.kwMoment(this.keys.pool(op.pool).operation(op.ticket), ...momentFields(moment, at))) === 1;
  }

  /** The tickets of those of `ops` whose cancellation was asked for. */
  async cancelsRequested(ops: readonly OperationRef[]): Promise<string[]> {
    // One read each (not a pipeline): on a cluster they go to several shards.
    const flags = await Promise.all(ops.map((op) => this.redis.hget(this.keys.pool(op.pool).operation(op.ticket), 'cancel')));
    return ops.filter((_op, i) => flags[i] === '1').map((op) => op.ticket);
  }

  /**
   * Records the outcome once, and in the same step ends the log with the line that says it and
   * publishes the ticket on the finished channel, so that dispatchers following its log end at once.
   * Only for the delivery that owns the run (`fenced` otherwise); `delivery` '' records whoever owns it.
   */
  async recordResult(op: OperationRef, delivery: string, result: OperationResult, retentionSeconds: number, now = Date.now()): Promise<RecordReply> {
    const k = this.keys.pool(op.pool);
    const [reply, jobId] = await this.redis.kwRecordResult(
      k.operation(op.ticket),
      k.payload(op.ticket),
      k.log(op.ticket),
      result.state,
      result.exitCode,
      result.failure ? JSON.stringify(result.failure) : '',
      result.outputVariables && Object.keys(result.outputVariables).length > 0 ? JSON.stringify(result.outputVariables) : '',
      now,
      retentionSeconds,
      k.finishedChannel,
      op.ticket,
      delivery,
      this.publish,
      ...encodeLine('system', describeOutcome(result), now),
    );
    // The index entry expires with the record (sent again with the result when its reply was lost).
    if (reply === 'recorded' || reply === 'again') await this.redis.kwTicketEnd(this.keys.ticket(op.ticket), jobId, retentionSeconds);
    return reply;
  }

  /** A queued operation is cancelled at once; a started one is flagged for its executor to stop. */
  async cancel(op: OperationRef, retentionSeconds: number, now = Date.now()): Promise<CancelReply> {
    const cancelled = outcomes.cancelled('before start');
    const k = this.keys.pool(op.pool);
    const reply = await this.redis.kwCancel(
      k.operation(op.ticket),
      k.payload(op.ticket),
      k.log(op.ticket),
      now,
      retentionSeconds,
      cancelled.exitCode,
      JSON.stringify(cancelled.failure),
      k.finishedChannel,
      op.ticket,
      this.publish,
      ...encodeLine('system', describeOutcome(cancelled), now),
    );
    if (reply[0] === 'missing') return { kind: 'missing' };
    if (reply[0] === 'cancelled') {
      await this.redis.kwTicketEnd(this.keys.ticket(op.ticket), reply[2] ?? '', retentionSeconds);
      return { kind: 'cancelled', state: 'cancelled' };
    }
    return { kind: reply[0] as 'finished' | 'signalled', state: reply[1] as OperationState };
  }

  /**
   * Undoes this executor's claim of an operation whose script it never started (it was handed back
   * while waiting for its mutex), so the next executor claims it afresh instead of taking it as lost.
   */
  async requeue(op: OperationRef, executorId: string): Promise<boolean> {
    return (await this.redis.kwRequeue(this.keys.pool(op.pool).operation(op.ticket), executorId)) === 1;
  }

  /**
   * Passes an unfinished operation whose run was handed back on to no one: the next delivery takes
   * it over without waiting for this executor.
   */
  async passOn(op: OperationRef, executorId: string): Promise<boolean> {
    return (await this.redis.kwPassOn(this.keys.pool(op.pool).operation(op.ticket), executorId)) === 1;
  }

  /** Deletes the record and logs of a finished operation, and its index entry. */
  async release(op: OperationRef): Promise<ReleaseReply> {
    const k = this.keys.pool(op.pool);
    const [reply, jobId] = await this.redis.kwRelease(k.operation(op.ticket), k.payload(op.ticket), k.log(op.ticket));
    if (reply === 'released') await this.redis.kwTicketEnd(this.keys.ticket(op.ticket), jobId ?? '', 0);
    return reply;
  }
}
