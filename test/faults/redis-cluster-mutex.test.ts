/**
 * The isolation mutex on a Redis Cluster: its keys in a slot of their own, its holders operations of
 * two pools whose records are in other slots (on other shards, as it falls). No script may touch two
 * slots, so a refusal (CROSSSLOT, a non-local key) fails these cases.
 */
import { connectRedis } from '../../core/redis.js';
import { describeMutex } from '../support/mutex-cases.js';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster.js';

let cluster: RedisCluster | undefined;

describeMutex(
  'on a Redis Cluster, shared by pools',
  async () => {
    cluster = await startRedisCluster();
    return connectRedis(cluster.url, 'kube-worker-mutex-test');
  },
  // The cluster goes, and its keys with it.
  async () => cluster?.remove(),
);
