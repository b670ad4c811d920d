/**
 * Every Redis key kube-worker writes, under one prefix, laid out so that a Redis Cluster can hold
 * them: each Lua script's keys share one hash slot (the part of a key in braces picks its slot),
 * and each pool has a slot of its own, so that pools spread over the cluster's shards.
 *
 * Per pool, in the slot of `{<prefix>:<pool>}`:
 *   {<prefix>:<pool>}:<pool>:…             BullMQ's keys of the pool's queue (its prefix is the tag)
 *   {<prefix>:<pool>}:op:<ticket>          hash    state, pool, body hash, timings, result
 *   {<prefix>:<pool>}:op:<ticket>:payload  string  the full request (script, files, variables) until it ends
 *   {<prefix>:<pool>}:op:<ticket>:log      stream  log lines, entry id "<seq>-0"
 *   {<prefix>:<pool>}:finished             channel tickets whose result was just recorded (published
 *                                                  by the same script that records it; sharded on a cluster)
 *   {<prefix>:<pool>}:cancel               channel tickets whose cancellation was asked for
 *   {<prefix>:<pool>}:replication-mark     string  written before each WAIT for the pool's writes (replica-acks.ts)
 * Per ticket, a slot of its own:
 *   <prefix>:ticket:<ticket>               hash    the pool that holds the ticket's record (ticket-index.ts)
 * Per mutex, in the slot of `{<prefix>:mutex:<name>}` (a mutex is shared by pools):
 *   …:holder   hash    the exclusive hold: ticket, pool, fencing token, lease expiry
 *   …:readers  zset    shared holds "<pool>|<ticket>|<token>", scored by lease expiry
 *   …:waiting  string  a writer is waiting: new readers hold back
 *   …:fence    string  counter of fencing tokens
 * The deployment's own, in the slot of `{<prefix>}`:
 *   {<prefix>}:executors                   zset    executor ids scored by last heartbeat (ms), and the
 *                                                  registry's keys beside it (executor-registry.ts)
 *   {<prefix>}:replication-mark            string  written before each WAIT on a single Redis
 *
 * A pool's keys and ours share its slot: `op` is reserved so that no queue's keys (`…:<pool>:…`)
 * can be an operation's (`…:op:…`).
 */
export const RESERVED_POOL_NAMES: ReadonlySet<string> = new Set(['op', 'mutex', 'cancel', 'finished', 'executors']);

/** An operation as the keys know it: its record lives in its pool's slot. */
export interface OperationRef {
  readonly ticket: string;
  readonly pool: string;
}

export interface PoolKeys {
  /** The pool's hash tag, `{<prefix>:<pool>}`: BullMQ's prefix for the pool's queue. */
  readonly queuePrefix: string;
  operation(ticket: string): string;
  payload(ticket: string): string;
  log(ticket: string): string;
  readonly finishedChannel: string;
  readonly cancelChannel: string;
  readonly replicationMark: string;
}

export interface MutexKeys {
  holder: string;
  readers: string;
  waiting: string;
  fence: string;
}

export interface Keys {
  readonly prefix: string;
  pool(pool: string): PoolKeys;
  ticket(ticket: string): string;
  mutex(name: string): MutexKeys;
  readonly executors: string;
  /** Written before each WAIT by the replica check on a single Redis (see core/replica-acks.ts). */
  readonly replicationMark: string;
}

export function keys(prefix: string): Keys {
  return {
    prefix,
    pool: (pool) => {
      const tag = `{${prefix}:${pool}}`;
      return {
        queuePrefix: tag,
        operation: (ticket) => `${tag}:op:${ticket}`,
        payload: (ticket) => `${tag}:op:${ticket}:payload`,
        log: (ticket) => `${tag}:op:${ticket}:log`,
        finishedChannel: `${tag}:finished`,
        cancelChannel: `${tag}:cancel`,
        replicationMark: `${tag}:replication-mark`,
      };
    },
    ticket: (ticket) => `${prefix}:ticket:${ticket}`,
    mutex: (name) => {
      const tag = `{${prefix}:mutex:${name}}`;
      return { holder: `${tag}:holder`, readers: `${tag}:readers`, waiting: `${tag}:waiting`, fence: `${tag}:fence` };
    },
    executors: `{${prefix}}:executors`,
    replicationMark: `{${prefix}}:replication-mark`,
  };
}
