/** Redis connections. Nothing connects at import time; callers own and close what they create. */
import { Cluster, Redis, type Command, type RedisOptions } from 'ioredis';
import { backoffMs } from './delay.js';
import { clusterOptions, parseRedisUrl, sentinelOptions } from './redis-url.js';

export type { Cluster, Redis };

/** A connection to one Redis (alone or behind Sentinel), or a client of a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** A new connection like `client` (with the same settings), under another name when one is given. */
export function duplicateOf(client: RedisClient, name?: string): RedisClient {
  if (client instanceof Cluster) return client.duplicate(undefined, name ? { redisOptions: { ...client.options.redisOptions, connectionName: name } } : {});
  return client.duplicate(name ? { connectionName: name } : {});
}

/** Whether the client is ready for commands (a cluster: its slot map read and its nodes connected). */
export const isReady = (client: RedisClient): boolean => client.status === 'ready';

/**
 * A connection that only we can end. ioredis reconnects a connection that drops, but some of its
 * paths end one for good (status `end`, which nothing reconnects). Behind Sentinel this happens on a
 * failover noticed while the connection is already reconnecting: the failover detector closes the
 * connector in the middle of its connect, and a rejected connect ends the client. Commands sent
 * before that then wait forever in its resend queue, and new ones fail at once. So a connection
 * that ends without our `quit` or `disconnect` connects again (after a short, growing pause), and
 * resends what it held as after any reconnect. Its duplicates (BullMQ's blocking connections, the
 * dispatcher's followers) are made the same way.
 */
class ReconnectingRedis extends Redis {
  private closedByUs = false;
  private reopened = 0;

  /** `url`: redis:// or rediss://; undefined when `options` say where (Sentinel, a duplicate). */
  constructor(url: string | undefined, options: RedisOptions) {
    super(url as string, options);
    this.on('ready', () => (this.reopened = 0));
    this.on('end', () => {
      if (this.closedByUs) return;
      setTimeout(
        () => {
          if (!this.closedByUs && this.status === 'end') this.connect().catch(() => undefined);
        },
        backoffMs(this.reopened++, 100, 2000),
      ).unref();
    });
  }

  override connect(callback?: () => void): Promise<void> {
    // Closing and connecting again (BullMQ does so to interrupt a blocking read) makes it ours again.
    this.closedByUs = false;
    return super.connect(callback);
  }

  override disconnect(reconnect = false): void {
    if (!reconnect) this.closedByUs = true;
    super.disconnect(reconnect);
  }

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    if (command.name === 'quit') this.closedByUs = true;
    return super.sendCommand(command, stream);
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    return new ReconnectingRedis(undefined, { ...this.options, ...override });
  }
}

/**
 * A connection whose commands, when several are issued in one turn of the event loop, leave in one
 * write: the socket is corked by the first and uncorked once the turn's I/O callbacks have run.
 *
 * On a busy dispatcher each write to Redis is a system call that costs more than the request's own
 * work. ioredis's auto-pipelining batches the same way, but builds a Pipeline per turn that copies
 * every script defined on the connection — BullMQ defines dozens — and that garbage cost more than
 * the system calls it saved. Commands a pipeline sends (with a `stream`) pass through as they are.
 */
class CoalescingRedis extends ReconnectingRedis {
  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    if (!stream && this.status === 'ready' && this.stream.writableCorked === 0) {
      // The socket corked here is the one uncorked, even if a reconnect replaced it meanwhile.
      const socket = this.stream;
      socket.cork();
      setImmediate(() => socket.uncork());
    }
    return super.sendCommand(command, stream);
  }
}

/**
 * A connection for commands. `maxRetriesPerRequest: null` is what BullMQ requires of connections it
 * blocks on; commands wait through a Redis restart instead of failing the operation.
 * `coalesceWrites`: for a connection many concurrent requests share (see CoalescingRedis).
 * `commandTimeoutMs`: for a connection that answers someone waiting (the API): a command fails
 * after this long instead of waiting for Redis to come back. Its duplicates inherit the timeout: a
 * command that blocks longer than that (XREAD BLOCK, BLPOP) needs a connection made without it.
 * `sentinelPassword`: the Sentinels' own, for a `redis+sentinel://` URL (redis-url.ts).
 *
 * Every connection, and every duplicate of one, follows the primary: a write refused with READONLY
 * (the node it holds was made a replica by a failover) closes it, and it reconnects to whatever is
 * the primary now, sending that command again. A cluster client (`redis+cluster://`) follows each
 * shard's primary the same way, from the cluster's own slot map; it does not coalesce writes (its
 * commands go to several nodes).
 */
export function connectRedis(
  url: string,
  name: string,
  options: { coalesceWrites?: boolean; commandTimeoutMs?: number; sentinelPassword?: string } = {},
): RedisClient {
  const settings: RedisOptions = {
    maxRetriesPerRequest: null,
    connectionName: name,
    lazyConnect: false,
    commandTimeout: options.commandTimeoutMs,
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  };
  const target = parseRedisUrl(url);
  if (target.kind === 'cluster') {
    const { connectionName: _name, lazyConnect: _lazy, ...nodeSettings } = settings;
    return new Cluster(target.nodes, clusterOptions(target, name, nodeSettings));
  }
  const Client = options.coalesceWrites ? CoalescingRedis : ReconnectingRedis;
  return target.kind === 'sentinel'
    ? new Client(undefined, { ...sentinelOptions(target, options.sentinelPassword), ...settings })
    : new Client(target.url, settings);
}

/** True for the errors of a Redis that cannot be reached or cannot serve now: worth a 503 and a retry. */
export function isRedisUnavailable(error: Error): boolean {
  return /Command timed out|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|Connection is closed|Stream isn't writeable|MaxRetriesPerRequest|READONLY|LOADING|MASTERDOWN|BUSY |OOM command|All sentinels are unreachable|NOREPLICAS|CLUSTERDOWN|TRYAGAIN|Failed to refresh slots cache|None of startup nodes is available|Too many Cluster redirections/.test(
    error.message,
  );
}
