/**
 * The record of each operation in Redis: its state, timings and result, and (until it ends) its full
 * request. Every transition is one Lua script, so that submit, claim, cancel and finish never race:
 * whichever comes first wins and the others see its outcome. Each script that ends an operation
 * also publishes its ticket on `<prefix>:finished`.
 *
 *   state  queued → pending (an executor took it) → running (the script started) → succeeded | failed | cancelled
 */
import type { Redis } from 'ioredis';
import type { Failure, OperationState, OutputVariables } from './contract/status.js';
import { EXIT_CODES } from './contract/status.js';
import type { Keys } from './keys.js';

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
  /** The BullMQ job id this submission was enqueued with (jobIdFor); absent on records older than it. */
  jobId?: string;
}

export interface OperationResult {
  state: 'succeeded' | 'failed' | 'cancelled';
  exitCode: number;
  failure?: Failure;
  outputVariables?: OutputVariables;
}

export type CreateOutcome = { created: true } | { created: false; state: OperationState; bodyHash: string; jobId: string | undefined };

export type ClaimOutcome =
  | { kind: 'missing' }
  /** The record belongs to another pool than the queue that delivered it: not this job's to run. */
  | { kind: 'foreign'; pool: string }
  /** `executor`: the last one that held it; undefined when none did (it was cancelled while queued). */
  | { kind: 'terminal'; state: OperationState; executor: string | undefined }
  /** First delivery: the executor owns it now. */
  | { kind: 'claimed'; payload: string; cancelRequested: boolean; queuedAt: number }
  /** Delivered again after the executor that had it went silent. */
  | { kind: 'reclaimed'; payload: string; cancelRequested: boolean; previousState: OperationState; previousExecutor: string };

/** `finished`: it had ended already, untouched; `cancelled`: it was queued and is cancelled now; `signalled`: its executor is told to stop it. */
export type CancelOutcome =
  | { kind: 'missing' }
  | { kind: 'finished'; state: OperationState }
  | { kind: 'cancelled'; state: 'cancelled' }
  | { kind: 'signalled'; state: OperationState };

export type ReleaseOutcome = 'released' | 'missing' | 'not-finished';

const TERMINAL_LUA = `local function terminal(s) return s == 'succeeded' or s == 'failed' or s == 'cancelled' end`;

/** Appends a system line with the next sequence number (the log store's id scheme). */
const APPEND_SYSTEM_LINE_LUA = `
local function appendSystemLine(logKey, text, at)
  local last = redis.call('XREVRANGE', logKey, '+', '-', 'COUNT', 1)
  local seq = 1
  if last[1] then seq = tonumber(string.match(last[1][1], '^(%d+)')) + 1 end
  redis.call('XADD', logKey, seq .. '-0', 's', 'y', 't', text, 'a', at)
end`;

const SCRIPTS = {
  /** KEYS: op, payload. ARGV: bodyHash, pool, taskId, queuedAt(ms), payload, job id. */
  kwCreate: {
    numberOfKeys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then
  local current = redis.call('HMGET', KEYS[1], 'state', 'hash', 'job')
  return {'exists', current[1], current[2], current[3] or ''}
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'hash', ARGV[1], 'pool', ARGV[2], 'queuedAt', ARGV[4], 'job', ARGV[6])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'taskId', ARGV[3]) end
redis.call('SET', KEYS[2], ARGV[5])
return {'created'}`,
  },
  /** KEYS: op, payload. ARGV: executor id, now(ms), the pool whose queue delivered it. */
  kwClaim: {
    numberOfKeys: 2,
    lua: `${TERMINAL_LUA}
local current = redis.call('HMGET', KEYS[1], 'state', 'cancel', 'executor', 'queuedAt', 'pool')
local state = current[1]
if not state then return {'missing'} end
if current[5] ~= ARGV[3] then return {'foreign', current[5] or ''} end
if terminal(state) then return {'terminal', state, current[3] or ''} end
local payload = redis.call('GET', KEYS[2]) or ''
local cancel = current[2] or ''
if state == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'pending', 'executor', ARGV[1], 'claimedAt', ARGV[2])
  return {'claimed', payload, cancel, current[4]}
end
redis.call('HSET', KEYS[1], 'executor', ARGV[1])
return {'reclaimed', payload, cancel, state, current[3] or ''}`,
  },
  /** KEYS: op. ARGV: now(ms). Only a pending operation starts running. */
  kwMarkRunning: {
    numberOfKeys: 1,
    lua: `
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'running', 'startedAt', ARGV[1])
return 1`,
  },
  /** KEYS: op, payload, log. ARGV: state, exitCode, failure json, outputs json, now(ms), retention(s), finished channel, ticket. */
  kwFinish: {
    numberOfKeys: 3,
    lua: `${TERMINAL_LUA}
local state = redis.call('HGET', KEYS[1], 'state')
if not state or terminal(state) then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'exitCode', ARGV[2], 'finishedAt', ARGV[5])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'failure', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'outputs', ARGV[4]) end
redis.call('DEL', KEYS[2])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[3], ARGV[6])
redis.call('PUBLISH', ARGV[7], ARGV[8])
return 1`,
  },
  /** KEYS: op, payload, log. ARGV: now(ms), retention(s), exit code, failure json, finished channel, ticket. */
  kwCancel: {
    numberOfKeys: 3,
    lua: `${TERMINAL_LUA}${APPEND_SYSTEM_LINE_LUA}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing'} end
if terminal(state) then return {'finished', state} end
if state == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'cancel', '1', 'exitCode', ARGV[3], 'failure', ARGV[4], 'finishedAt', ARGV[1])
  appendSystemLine(KEYS[3], 'Cancelled before it started', ARGV[1])
  redis.call('DEL', KEYS[2])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  redis.call('EXPIRE', KEYS[3], ARGV[2])
  redis.call('PUBLISH', ARGV[5], ARGV[6])
  return {'cancelled', 'cancelled'}
end
redis.call('HSET', KEYS[1], 'cancel', '1')
return {'signalled', state}`,
  },
  /** KEYS: op, payload. ARGV: job id. Undoes a create whose job could not be added, unless an executor took it meanwhile. */
  kwAbandon: {
    numberOfKeys: 2,
    lua: `
local current = redis.call('HMGET', KEYS[1], 'state', 'job')
if current[1] ~= 'queued' or current[2] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1`,
  },
  /** KEYS: op. ARGV: executor id. An operation that never started here goes back to queued. */
  kwRequeue: {
    numberOfKeys: 1,
    lua: `
local current = redis.call('HMGET', KEYS[1], 'state', 'executor')
if current[1] ~= 'pending' or current[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'queued')
redis.call('HDEL', KEYS[1], 'executor', 'claimedAt')
return 1`,
  },
  /** KEYS: op. ARGV: executor id, next owner ('' for none). Only the current owner passes it on. */
  kwPassOn: {
    numberOfKeys: 1,
    lua: `
if redis.call('HGET', KEYS[1], 'executor') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], 'executor') else redis.call('HSET', KEYS[1], 'executor', ARGV[2]) end
return 1`,
  },
  /** KEYS: op, payload, log. */
  kwRelease: {
    numberOfKeys: 3,
    lua: `${TERMINAL_LUA}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'missing' end
if not terminal(state) then return 'not-finished' end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 'released'`,
  },
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptedRedis = Redis & Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

const toNumber = (value: string | undefined): number | undefined => (value === undefined || value === '' ? undefined : Number(value));

export class OperationStore {
  private readonly redis: ScriptedRedis;

  constructor(redis: Redis, private readonly keys: Keys) {
    for (const [name, script] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, script);
    }
    this.redis = redis as ScriptedRedis;
  }

  async create(ticket: string, fields: { bodyHash: string; pool: string; taskId?: string; payload: string; jobId: string; now: number }): Promise<CreateOutcome> {
    const reply = (await this.redis.kwCreate(
      this.keys.operation(ticket), this.keys.payload(ticket),
      fields.bodyHash, fields.pool, fields.taskId ?? '', fields.now, fields.payload, fields.jobId,
    )) as string[];
    if (reply[0] === 'created') return { created: true };
    return { created: false, state: reply[1] as OperationState, bodyHash: reply[2] ?? '', jobId: reply[3] || undefined };
  }

  /** Removes a record still queued under `jobId` (its job was never added); false when there is none. */
  async abandon(ticket: string, jobId: string): Promise<boolean> {
    return (await this.redis.kwAbandon(this.keys.operation(ticket), this.keys.payload(ticket), jobId)) === 1;
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
      jobId: hash.job,
    };
  }

  async state(ticket: string): Promise<OperationState | undefined> {
    return ((await this.redis.hget(this.keys.operation(ticket), 'state')) ?? undefined) as OperationState | undefined;
  }

  /** Claims the operation for an executor, provided the record is of `pool`, the delivering queue's. */
  async claim(ticket: string, pool: string, executorId: string, now = Date.now()): Promise<ClaimOutcome> {
    const reply = (await this.redis.kwClaim(this.keys.operation(ticket), this.keys.payload(ticket), executorId, now, pool)) as string[];
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
        };
    }
  }

  async markRunning(ticket: string, now = Date.now()): Promise<boolean> {
    return (await this.redis.kwMarkRunning(this.keys.operation(ticket), now)) === 1;
  }

  /** Those of `tickets` whose cancellation was asked for. */
  async cancelsRequested(tickets: readonly string[]): Promise<string[]> {
    const pipeline = this.redis.pipeline();
    for (const ticket of tickets) pipeline.hget(this.keys.operation(ticket), 'cancel');
    const replies = (await pipeline.exec()) ?? [];
    return tickets.filter((_ticket, i) => replies[i]?.[1] === '1');
  }

  /**
   * Records the outcome once, and in the same step publishes the ticket on the finished channel so
   * that dispatchers following its log end at once; false when it had already ended or is gone.
   */
  async finish(ticket: string, result: OperationResult, retentionSeconds: number, now = Date.now()): Promise<boolean> {
    const reply = await this.redis.kwFinish(
      this.keys.operation(ticket), this.keys.payload(ticket), this.keys.log(ticket),
      result.state, result.exitCode,
      result.failure ? JSON.stringify(result.failure) : '',
      result.outputVariables && Object.keys(result.outputVariables).length > 0 ? JSON.stringify(result.outputVariables) : '',
      now, retentionSeconds, this.keys.finishedChannel, ticket,
    );
    return reply === 1;
  }

  /** A queued operation is cancelled at once; a started one is flagged for its executor to stop. */
  async cancel(ticket: string, retentionSeconds: number, now = Date.now()): Promise<CancelOutcome> {
    const failure: Failure = { reason: 'Cancelled', message: 'Cancelled before it started' };
    const reply = (await this.redis.kwCancel(
      this.keys.operation(ticket), this.keys.payload(ticket), this.keys.log(ticket),
      now, retentionSeconds, EXIT_CODES.cancelled, JSON.stringify(failure), this.keys.finishedChannel, ticket,
    )) as string[];
    if (reply[0] === 'missing') return { kind: 'missing' };
    if (reply[0] === 'cancelled') return { kind: 'cancelled', state: 'cancelled' };
    return { kind: reply[0] as 'finished' | 'signalled', state: reply[1] as OperationState };
  }

  /** Deletes the record and logs of a finished operation. */
  /**
   * Undoes this executor's claim of an operation whose script it never started (it was handed back
   * while waiting for its mutex), so the next executor claims it afresh instead of taking it as lost.
   */
  async requeue(ticket: string, executorId: string): Promise<boolean> {
    return (await this.redis.kwRequeue(this.keys.operation(ticket), executorId)) === 1;
  }

  /**
   * Passes ownership of an unfinished operation on: to no one when its run was handed back (the next
   * executor adopts it without waiting for this one), or back to the executor still running it.
   */
  async passOn(ticket: string, executorId: string, nextOwner = ''): Promise<boolean> {
    return (await this.redis.kwPassOn(this.keys.operation(ticket), executorId, nextOwner)) === 1;
  }

  async release(ticket: string): Promise<ReleaseOutcome> {
    return (await this.redis.kwRelease(this.keys.operation(ticket), this.keys.payload(ticket), this.keys.log(ticket))) as ReleaseOutcome;
  }
}
