/**
 * Acknowledged means kept: replication is asynchronous, so a primary that dies right after it
 * answered can take what it answered with it. When the primary has replicas, the dispatcher answers
 * a submission only once its replicas have the operation's record and its job, and an executor
 * moves on from a result only once they have it — which WAIT tells (it counts the replicas that
 * have every write its client sent before it).
 *
 * It waits for every replica the primary has, not just one: Sentinel promotes the replica furthest
 * along only among those of the best `replica-priority`, so the one that answered first may not be
 * the one promoted. Past the wait, one replica is enough (the slow one may be on its way out), and
 * none is a 503: the operation may or may not be kept.
 *
 * Whether the primary has replicas is read from INFO replication now and then, not on every
 * submission: WAIT on a primary without replicas would wait its whole timeout for nothing. Behind
 * Sentinel the primary has replicas by design: one is waited for even while none is connected (a
 * replica link cut is exactly when an acknowledged write would be lost), so that is a 503.
 *
 * On a Redis Cluster each shard replicates on its own, and WAIT counts the replicas of the node it
 * is sent to. So there each pool waits for its own shard: the mark is written in the pool's slot,
 * and WAIT sent on the same node connection, to the primary that serves that slot now.
 */
import { Cluster, Command, type Redis } from 'ioredis';
import type { Keys } from './keys.js';
import type { RedisClient } from './redis.js';

/** How long the replica count is trusted before it is read again. */
const REFRESH_MS = 5_000;
/**
 * How long a replica seen connected is still waited for after its link dropped: a link cut for a
 * moment (a network blip, a replica paused) is exactly when a write would reach one replica and
 * not the one promoted next.
 */
const REMEMBER_MS = 30_000;

export interface ReplicaAcksSettings {
  /** How long WAIT may wait for one replica; 0: never waits (answers as soon as the primary has it). */
  waitMs: number;
  /** The connection's own command timeout, which WAIT must outlast. */
  commandTimeoutMs: number;
  /** Wait for at least one replica even when none is connected (Sentinel: the primary has replicas by design). */
  expectReplicas: boolean;
}

/** The number of replicas INFO replication says are connected (`connected_slaves`). */
export function connectedReplicas(info: string): number {
  const match = /^connected_slaves:(\d+)/m.exec(info);
  return match ? Number(match[1]) : 0;
}

/** The primary a shard's rounds go to: one Redis, or the node of a cluster that serves the mark's slot. */
interface ShardLink {
  /**
   * Writes the mark, and answers the node connection it went to (to WAIT on) and a name for the
   * primary that is (another one after a failover). `mark` false: only finds the primary.
   */
  primary(mark: boolean): Promise<{ node: Redis; name: string }>;
}

/**
 * Waits for the replicas of the primary a submission or a result wrote to: the one Redis, or on a
 * cluster the primary of the pool's shard.
 */
export class ReplicaAcks {
  private readonly shards = new Map<string, ShardAcks>();

  /** `redis`: a connection of the ack check's own (its duplicates inherit the command timeout). */
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Pick<Keys, 'pool' | 'replicationMark'>,
    private readonly settings: ReplicaAcksSettings,
  ) {
    if (!(redis instanceof Cluster)) {
      const primary = async (mark: boolean): Promise<{ node: Redis; name: string }> => {
        if (mark) await redis.set(keys.replicationMark, Date.now());
        return { node: redis, name: '' };
      };
      this.shards.set('', new ShardAcks(redis, primary, settings));
    }
  }

  /** Whether the replicas of `pool`'s shard have every write finished before this call (see ShardAcks.confirm). */
  confirm(pool: string): Promise<boolean> {
    const { redis } = this;
    if (!(redis instanceof Cluster)) return this.shards.get('')!.confirm();
    let shard = this.shards.get(pool);
    if (!shard) {
      const markKey = this.keys.pool(pool).replicationMark;
      let slot: number | undefined;
      // The mark goes through the cluster's routing, which follows a failover (MOVED, a node gone);
      // WAIT then goes on the connection of the node that routing sent it to.
      const primary = async (mark: boolean): Promise<{ node: Redis; name: string }> => {
        if (mark) await redis.set(markKey, Date.now());
        slot ??= Number(await redis.cluster('KEYSLOT', markKey));
        const name = redis.slots[slot]?.[0];
        const node = redis.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === name);
        if (!node || !name) {
          redis.refreshSlotsCache();
          throw new Error(`CLUSTERDOWN no primary is known for the slot of ${markKey}`);
        }
        return { node, name };
      };
      shard = new ShardAcks(redis, primary, this.settings);
      this.shards.set(pool, shard);
    }
    return shard.confirm();
  }

  close(): void {
    for (const shard of this.shards.values()) shard.close();
    this.redis.disconnect();
  }
}

/**
 * WAIT blocks the connection it is sent on, so it has a connection of its own: other commands
 * never queue behind it. WAIT counts the writes of the client that sends it, so each round first
 * writes a mark: the primary's replication offset then is past every write any connection had
 * finished before the round began. A submission waits for the first round that begins after
 * its writes; rounds run one at a time and each covers every submission waiting when it began.
 */
class ShardAcks {
  private replicas: number | undefined;
  private readAt = 0;
  /** The most replicas seen connected to this primary, and when. */
  private seen = { count: 0, at: 0 };
  private readonly refresh: NodeJS.Timeout | undefined;
  private reading: Promise<number> | undefined;
  private waiting: Array<{ resolve(acknowledged: number): void; reject(error: Error): void }> = [];
  private round: Promise<void> | undefined;

  /** The primary the last round went to: another one means a failover. */
  private primaryName: string | undefined;

  constructor(
    redis: RedisClient,
    private readonly link: ShardLink['primary'],
    private readonly settings: ReplicaAcksSettings,
  ) {
    // Another primary after a failover: read its replicas afresh, before anything waits on them.
    redis.on('ready', () => this.forget());
    // Read now and then even while nothing is written, so that a replica whose link is down at the
    // moment of a write is still remembered.
    if (settings.waitMs > 0) this.refresh = setInterval(() => void this.replicaCount().catch(() => undefined), REFRESH_MS).unref();
  }

  /** Another primary: its replicas are read afresh. */
  private forget(): void {
    this.replicas = undefined;
    this.seen = { count: 0, at: 0 };
    if (this.settings.waitMs > 0) void this.replicaCount().catch(() => undefined);
  }

  /** The primary to WAIT on, once marked; a primary other than the last one's replicas are read afresh. */
  private async primary(mark: boolean): Promise<Redis> {
    const { node, name } = await this.link(mark);
    if (this.primaryName !== undefined && name !== this.primaryName) {
      this.replicas = undefined;
      this.seen = { count: 0, at: 0 };
    }
    this.primaryName = name;
    return node;
  }

  /**
   * Whether the replicas have every write finished before this call: true once all of them have,
   * or at least one once the wait is over (at once when the primary has none, or when waiting is
   * off); false when none confirms within the wait — what was written may or may not be kept.
   */
  async confirm(): Promise<boolean> {
    if (this.settings.waitMs === 0 || (await this.replicaCount()) === 0) return true;
    const acknowledged = await new Promise<number>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.round ??= this.runRounds();
    });
    return acknowledged >= 1;
  }

  private async runRounds(): Promise<void> {
    while (this.waiting.length > 0) {
      const covered = this.waiting;
      this.waiting = [];
      try {
        const node = await this.primary(true);
        const replicas = await this.replicaCount();
        if (replicas === 0) {
          // Another primary since (a failover), and it has no replica: there is nothing to wait for.
          for (const waiter of covered) waiter.resolve(1);
          continue;
        }
        // WAIT blocks for up to waitMs by design; the connection's command timeout must not cut it first.
        const wait = new Command('wait', [Math.max(replicas, 1), this.settings.waitMs], { replyEncoding: 'utf8' });
        wait.setTimeout(this.settings.waitMs + this.settings.commandTimeoutMs);
        const acknowledged = (await node.sendCommand(wait)) as number;
        // Fewer than asked: a replica may have gone; count them again.
        if (acknowledged < replicas) this.replicas = undefined;
        for (const waiter of covered) waiter.resolve(acknowledged);
      } catch (error) {
        for (const waiter of covered) waiter.reject(error as Error);
      }
    }
    this.round = undefined;
  }

  private async replicaCount(): Promise<number> {
    if (this.replicas !== undefined && Date.now() - this.readAt < REFRESH_MS) return this.replicas;
    this.reading ??= this.primary(false)
      .then((node) => node.info('replication'))
      .then((info) => {
        const now = Date.now();
        const connected = connectedReplicas(info);
        if (connected >= this.seen.count || now - this.seen.at > REMEMBER_MS) this.seen = { count: connected, at: now };
        this.replicas = Math.max(connected, this.seen.count, this.settings.expectReplicas ? 1 : 0);
        this.readAt = now;
        return this.replicas;
      })
      .finally(() => (this.reading = undefined));
    return this.reading;
  }

  close(): void {
    clearInterval(this.refresh);
  }
}
