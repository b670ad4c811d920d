/**
 * A Redis primary, its replicas (AOF, `appendfsync everysec`, as production runs them) and three
 * Sentinels watching them, all redis-server processes of the test's own on free loopback ports, in
 * a temp dir removed at the end. A Sentinel is `redis-server --sentinel <conf>`.
 *
 * The Sentinels call a primary down after 1 s of silence, so that a failover takes seconds.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../support/free-port.js';
import { answersWhileRunning, askRedis, PERSISTENT, spawnRedisServer } from '../../support/redis-server.js';
import { waitUntil } from '../../support/wait-until.js';

export const MASTER = 'kw';

export interface RedisNode {
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
}

export interface SentinelGroup {
  /** redis+sentinel://… for the product. */
  url: string;
  nodes: RedisNode[];
  /** The node the Sentinels name as the primary now. */
  primary(): Promise<RedisNode>;
  /** Stops a node with `signal` and waits until it has exited. */
  kill(node: RedisNode, signal: NodeJS.Signals): Promise<void>;
  /** Starts a stopped node again, on its data, as a replica of the current primary, and waits until it is in sync. */
  restartAsReplica(node: RedisNode): Promise<void>;
  /** Waits until the Sentinels name a primary other than `previous` and it answers as one; when that was seen (ms). */
  promotion(previous: RedisNode, timeoutMs?: number): Promise<{ primary: RedisNode; at: number }>;
  /** SIGSTOP: its connections stay open, nothing answers or reconnects. */
  freeze(node: RedisNode): void;
  /** SIGCONT. */
  thaw(node: RedisNode): void;
  /** Makes every replica but `to` unfit for promotion (replica-priority 0), or all fit again. */
  preferReplica(to: RedisNode | undefined): Promise<void>;
  /** Waits until the primary has `count` replicas in sync. */
  replicasInSync(count: number, timeoutMs?: number): Promise<void>;
  remove(): Promise<void>;
}

interface Node extends RedisNode {
  dir: string;
  child?: ChildProcess;
  running: boolean;
}

export async function startSentinelGroup(options: { replicas?: number } = {}): Promise<SentinelGroup> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kw-sentinel-'));
  const nodes: Node[] = [];
  const sentinels: Array<{ port: number; child: ChildProcess }> = [];

  const startNode = async (node: Node, replicaOf: number | undefined): Promise<void> => {
    const args = ['--bind', '127.0.0.1', '--port', String(node.port), '--dir', node.dir, '--save', '', ...PERSISTENT];
    if (replicaOf !== undefined) args.push('--replicaof', '127.0.0.1', String(replicaOf));
    const server = spawnRedisServer(args);
    node.child = server.child;
    node.running = true;
    await waitUntil(`redis-server on ${node.port}`, () => answersWhileRunning(server, node.url), 15_000, 100);
  };

  // Every process of the group, started one after another; the Sentinels watch the first node.
  const launch = async (): Promise<void> => {
    for (let i = 0; i <= (options.replicas ?? 2); i += 1) {
      const port = await freePort();
      const dir = path.join(root, `node-${port}`);
      await mkdir(dir);
      const node: Node = { port, url: `redis://127.0.0.1:${port}`, dir, running: false };
      nodes.push(node);
      await startNode(node, i === 0 ? undefined : nodes[0]!.port);
    }
    for (let i = 0; i < 3; i += 1) {
      const port = await freePort();
      const dir = path.join(root, `sentinel-${port}`);
      await mkdir(dir);
      const conf = path.join(dir, 'sentinel.conf');
      await writeFile(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${MASTER} 127.0.0.1 ${nodes[0]!.port} 2`,
          `sentinel down-after-milliseconds ${MASTER} 1000`,
          `sentinel failover-timeout ${MASTER} 4000`,
          `sentinel parallel-syncs ${MASTER} 2`,
          '',
        ].join('\n'),
      );
      sentinels.push({ port, child: spawnRedisServer([conf, '--sentinel']).child });
    }
  };

  const primaryPort = async (): Promise<number | undefined> => {
    for (const sentinel of sentinels) {
      const address = await askRedis<[string, string]>(sentinel.port, 'SENTINEL', 'get-master-addr-by-name', MASTER);
      if (address) return Number(address[1]);
    }
    return undefined;
  };
  const nodeAt = (port: number): Node => {
    const node = nodes.find((n) => n.port === port);
    if (!node) throw new Error(`the Sentinels name ${port}, which is none of the group's nodes`);
    return node;
  };
  const role = async (node: RedisNode): Promise<string | undefined> => (await askRedis<[string]>(node.port, 'ROLE'))?.[0];

  const group: SentinelGroup = {
    // Read when asked: the Sentinels' ports are known only once launch() has started them.
    get url() {
      return `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${MASTER}`;
    },
    nodes,
    async primary() {
      const port = await primaryPort();
      if (port === undefined) throw new Error('no Sentinel answers');
      return nodeAt(port);
    },
    async kill(node, signal) {
      const own = node as Node;
      const child = own.child;
      own.running = false;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
    async restartAsReplica(node) {
      const primary = await group.primary();
      await startNode(node as Node, primary.port);
      await waitUntil(
        `${node.port} in sync with ${primary.port}`,
        async () => /master_link_status:up/.test((await askRedis<string>(node.port, 'INFO', 'replication')) ?? ''),
        30_000,
        100,
      );
    },
    async promotion(previous, timeoutMs = 30_000) {
      let promoted: Node | undefined;
      await waitUntil(
        `a primary other than ${previous.port}`,
        async () => {
          const port = await primaryPort();
          if (port === undefined || port === previous.port) return false;
          promoted = nodeAt(port);
          return (await role(promoted)) === 'master';
        },
        timeoutMs,
        50,
      );
      return { primary: promoted!, at: Date.now() };
    },
    freeze: (node) => void (node as Node).child?.kill('SIGSTOP'),
    thaw: (node) => void (node as Node).child?.kill('SIGCONT'),
    async preferReplica(to) {
      for (const node of nodes.filter((n) => n.running))
        await askRedis(node.port, 'CONFIG', 'SET', 'replica-priority', to === undefined || node === to ? '100' : '0');
    },
    async replicasInSync(count, timeoutMs = 30_000) {
      await waitUntil(
        `${count} replicas in sync`,
        async () => {
          const info = (await askRedis<string>((await group.primary()).port, 'INFO', 'replication')) ?? '';
          return [...info.matchAll(/^slave\d+:.*state=online/gm)].length >= count;
        },
        timeoutMs,
        100,
      );
    },
    async remove() {
      for (const node of nodes) node.child?.kill('SIGCONT');
      for (const sentinel of sentinels) sentinel.child.kill('SIGKILL');
      for (const node of nodes) node.child?.kill('SIGKILL');
      await rm(root, { recursive: true, force: true });
    },
  };
  try {
    await launch();
    // The Sentinels know the primary, and have found both replicas, before anything uses them.
    await waitUntil(
      'the Sentinels see the primary and its replicas',
      async () => {
        const replicas = await askRedis<unknown[]>(sentinels[0]!.port, 'SENTINEL', 'replicas', MASTER);
        return (await primaryPort()) === nodes[0]!.port && (replicas?.length ?? 0) === nodes.length - 1;
      },
      30_000,
      200,
    );
    await group.replicasInSync(nodes.length - 1);
  } catch (error) {
    await group.remove();
    throw error;
  }
  return group;
}
