/**
 * Pub/sub that works on one Redis and on a cluster. On one Redis (alone or behind Sentinel):
 * PUBLISH and SUBSCRIBE. On a cluster: sharded pub/sub (SPUBLISH and SSUBSCRIBE, Redis 7), where a
 * channel lives in a hash slot like a key — so a script can publish on a channel of its own keys'
 * slot, and a message goes to the shard that serves it rather than to every node. ioredis keeps one
 * subscriber per shard (`shardedSubscribers`) and subscribes again after a failover.
 *
 * A message can be missed (published while a subscriber reconnects): every user of these channels
 * re-checks the truth in Redis now and then; a message only makes it prompt.
 */
import { Cluster } from 'ioredis';
import type { RedisClient } from './redis.js';

/** The command a Lua script publishes with (its channel must be in its keys' slot on a cluster). */
export const publishCommand = (client: RedisClient): 'publish' | 'spublish' => (client instanceof Cluster ? 'spublish' : 'publish');

export async function publish(client: RedisClient, channel: string, message: string): Promise<void> {
  if (client instanceof Cluster) await client.spublish(channel, message);
  else await client.publish(channel, message);
}

/**
 * Subscribes `subscriber` (a connection of its own) to `channels` and hands each message to
 * `onMessage`. Resolves once subscribed; a subscription that failed rejects (and is not retried here).
 */
export async function subscribe(subscriber: RedisClient, channels: readonly string[], onMessage: (channel: string, message: string) => void): Promise<void> {
  if (subscriber instanceof Cluster) {
    subscriber.on('smessage', onMessage);
    // One SSUBSCRIBE per channel: channels of one command must share a slot, and each pool's has its own.
    await Promise.all(channels.map((channel) => subscriber.ssubscribe(channel)));
    return;
  }
  subscriber.on('message', onMessage);
  await subscriber.subscribe(...channels);
}
