/**
 * Every Redis key kube-worker writes, under one prefix. BullMQ's own keys live under the same
 * prefix (`<prefix>:<pool>:…`); ours use `<prefix>:op:…` and `<prefix>:mutex:…`, which no pool
 * name can produce because pool names are lowercase and `op`/`mutex` are reserved below.
 *
 *   <prefix>:op:<ticket>            hash    state, pool, body hash, timings, result
 *   <prefix>:op:<ticket>:payload    string  the full request (script, files, variables) until it ends
 *   <prefix>:op:<ticket>:log        stream  log lines, entry id "<seq>-0"
 *   <prefix>:mutex:<name>:holder    hash    the exclusive hold: ticket, fencing token, lease expiry
 *   <prefix>:mutex:<name>:readers   zset    shared holds "<ticket>|<token>", scored by lease expiry
 *   <prefix>:mutex:<name>:waiting   string  a writer is waiting: new readers hold back
 *   <prefix>:mutex:<name>:fence     string  counter of fencing tokens
 *   <prefix>:cancel                 channel tickets whose cancellation was asked for
 *   <prefix>:finished               channel tickets whose result was just recorded (published by the
 *                                           same script that records it)
 *   <prefix>:executors              zset    executor ids scored by last heartbeat (ms)
 */
export const RESERVED_POOL_NAMES: ReadonlySet<string> = new Set(['op', 'mutex', 'cancel', 'finished', 'executors']);

export interface Keys {
  readonly prefix: string;
  operation(ticket: string): string;
  payload(ticket: string): string;
  log(ticket: string): string;
  mutex(name: string): { holder: string; readers: string; waiting: string; fence: string };
  readonly cancelChannel: string;
  readonly finishedChannel: string;
  readonly executors: string;
  /** Written before each WAIT by the dispatcher's replica check (see dispatcher/replica-acks.ts). */
  readonly replicationMark: string;
}

export function keys(prefix: string): Keys {
  return {
    prefix,
    operation: (ticket) => `${prefix}:op:${ticket}`,
    payload: (ticket) => `${prefix}:op:${ticket}:payload`,
    log: (ticket) => `${prefix}:op:${ticket}:log`,
    mutex: (name) => ({
      holder: `${prefix}:mutex:${name}:holder`,
      readers: `${prefix}:mutex:${name}:readers`,
      waiting: `${prefix}:mutex:${name}:waiting`,
      fence: `${prefix}:mutex:${name}:fence`,
    }),
    cancelChannel: `${prefix}:cancel`,
    finishedChannel: `${prefix}:finished`,
    executors: `${prefix}:executors`,
    replicationMark: `${prefix}:replication-mark`,
  };
}
