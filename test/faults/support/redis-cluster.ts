/**
 * A Redis Cluster of the test's own: 3 primaries and 3 replicas, redis-server processes on free
 * loopback ports (`--cluster-enabled yes`), joined with `redis-cli --cluster create
 * --cluster-replicas 1`, in a temp dir removed at the end. Nodes keep data as production runs them
 * (AOF, `appendfsync everysec`, noeviction) and call a silent peer failed after 1 s
 * (`cluster-node-timeout`), so that a failover takes seconds.
 *
 * There is no skipping: without redis-server and redis-cli the test fails and says why.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../support/free-port.js';
import { answersWhileRunning, askRedis, PERSISTENT, spawnRedisServer, type RedisProcess } from '../../support/redis-server.js';
import { waitUntil } from '../../support/wait-until.js';

const run = promisify(execFile);

export interface ClusterNode {
  readonly port: number;
  readonly running: boolean;
}

export interface RedisCluster {
  /** redis+cluster://… for the product. */
  url: string;
  nodes: ClusterNode[];
  /** The node that serves `slot` as its primary now, as the cluster's live nodes say. */
  primaryOf(slot: number): Promise<ClusterNode>;
  /** The hash slot of `key` (CLUSTER KEYSLOT). */
  slotOf(key: string): Promise<number>;
  /** Stops a node with `signal` and waits until it has exited. */
  kill(node: ClusterNode, signal: NodeJS.Signals): Promise<void>;
  /** Waits until a node other than `previous` serves `slot` as primary and the cluster says ok; when that was seen (ms). */
  promotion(previous: ClusterNode, slot: number, timeoutMs?: number): Promise<{ primary: ClusterNode; at: number }>;
  remove(): Promise<void>;
}

interface Node extends ClusterNode {
  dir: string;
  server?: RedisProcess;
  running: boolean;
}

/** Primary port → the slot ranges it serves, from one node's CLUSTER NODES (failed nodes left out). */
function primaries(nodesText: string): Map<number, Array<[number, number]>> {
  const served = new Map<number, Array<[number, number]>>();
  for (const line of nodesText.split('\n').filter(Boolean)) {
    const [, address, flags, , , , , , ...slots] = line.split(' ');
    if (!flags!.includes('master') || flags!.includes('fail')) continue;
    const port = Number(/:(\d+)@/.exec(address!)![1]);
    const ranges = slots.filter((s) => !s.startsWith('[')).map((s) => s.split('-').map(Number) as [number, number?]);
    served.set(
      port,
      ranges.map(([from, to]) => [from, to ?? from]),
    );
  }
  return served;
}

export async function startRedisCluster(): Promise<RedisCluster> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kw-cluster-'));
  const nodes: Node[] = [];
  for (let i = 0; i < 6; i += 1) {
    const port = await freePort();
    // The cluster bus is port + 10000 unless named: that would be in the kernel's ephemeral range,
    // where an outgoing connection may hold it (free-port.ts).
    const busPort = await freePort();
    const dir = path.join(root, `node-${port}`);
    await mkdir(dir);
    const node: Node = { port, dir, running: true };
    node.server = spawnRedisServer([
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-port',
      String(busPort),
      '--cluster-config-file',
      path.join(dir, 'nodes.conf'),
      '--cluster-node-timeout',
      '1000',
      '--save',
      '',
      ...PERSISTENT,
    ]);
    nodes.push(node);
  }
  const cluster: RedisCluster = {
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    nodes,
    async primaryOf(slot) {
      for (const node of nodes.filter((n) => n.running)) {
        const text = await askRedis<string>(node.port, 'CLUSTER', 'NODES');
        if (!text) continue;
        for (const [port, ranges] of primaries(text)) {
          if (ranges.some(([from, to]) => slot >= from && slot <= to)) return nodes.find((n) => n.port === port)!;
        }
      }
      throw new Error(`no live node says who serves slot ${slot}`);
    },
    async slotOf(key) {
      const alive = nodes.find((n) => n.running)!;
      return (await askRedis<number>(alive.port, 'CLUSTER', 'KEYSLOT', key))!;
    },
    async kill(node, signal) {
      const own = node as Node;
      own.running = false;
      const child = own.server?.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
    async promotion(previous, slot, timeoutMs = 30_000) {
      let promoted: ClusterNode | undefined;
      await waitUntil(
        `a primary other than ${previous.port} for slot ${slot}`,
        async () => {
          promoted = await cluster.primaryOf(slot).catch(() => undefined);
          if (!promoted || promoted.port === previous.port) return false;
          const [role] = (await askRedis<[string]>(promoted.port, 'ROLE')) ?? [];
          const info = (await askRedis<string>(promoted.port, 'CLUSTER', 'INFO')) ?? '';
          return role === 'master' && info.includes('cluster_state:ok');
        },
        timeoutMs,
        50,
      );
      return { primary: promoted!, at: Date.now() };
    },
    async remove() {
      for (const node of nodes) node.server?.child.kill('SIGKILL');
      await rm(root, { recursive: true, force: true });
    },
  };
  try {
    for (const node of nodes)
      await waitUntil(`redis-server on ${node.port}`, () => answersWhileRunning(node.server!, `redis://127.0.0.1:${node.port}`), 15_000);
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], {
      timeout: 60_000,
    });
    // Every node agrees the cluster is whole, and every primary has its replica in sync.
    await waitUntil(
      'the cluster is ok on every node',
      async () => {
        for (const node of nodes) if (!((await askRedis<string>(node.port, 'CLUSTER', 'INFO')) ?? '').includes('cluster_state:ok')) return false;
        return true;
      },
      30_000,
    );
    await waitUntil(
      'every primary has a replica in sync',
      async () => {
        let online = 0;
        for (const node of nodes) {
          const info = (await askRedis<string>(node.port, 'INFO', 'replication')) ?? '';
          if (/^role:master/m.test(info)) online += [...info.matchAll(/^slave\d+:.*state=online/gm)].length;
        }
        return online === 3;
      },
      30_000,
    );
  } catch (error) {
    await cluster.remove();
    throw error;
  }
  return cluster;
}
