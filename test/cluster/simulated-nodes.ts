/**
 * Simulated nodes beside the real one: kwok (built from its Go module, see cluster.ts) runs as one
 * more detached process of the cluster, and `count` Node objects it manages are applied. Adding
 * nodes works on a running cluster; nodes are never taken away here (a test that asked for fewer
 * does not mind more), only by `cluster:down`, which stops kwok and wipes the store.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Processes } from './processes.js';
import { waitFor } from './processes.js';
import { kwokConfig, kwokPaths, simulated, simulatedContainerLog, simulatedNode, simulatedNodeName } from './simulated-config.js';

export interface SimulatedStart {
  count: number;
  stateDir: string;
  pkiDir: string;
  kubeconfig: string;
  bins: { kwok?: string; kubectl: string };
  /** GET on the API server as the admin. */
  apiGet(path: string): Promise<{ status: number; body: string }>;
}

function kubectl(o: Pick<SimulatedStart, 'kubeconfig' | 'bins'>, args: string[], input?: string): string {
  const r = spawnSync(o.bins.kubectl, ['--kubeconfig', o.kubeconfig, ...args], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`cluster: kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function readyNodes(o: SimulatedStart): Promise<number> {
  const r = await o.apiGet(
    `/api/v1/nodes?labelSelector=${encodeURIComponent(
      Object.entries(simulated.label)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    )}`,
  );
  if (r.status !== 200) return 0;
  const list = JSON.parse(r.body) as { items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }> };
  return list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
}

/** Starts kwok if it does not run, and makes sure nodes kw-sim-000 … count-1 exist and are Ready. */
export async function ensureSimulatedNodes(procs: Processes, o: SimulatedStart): Promise<void> {
  if (o.count <= 0) return;
  if (procs.pidOf('kwok') === undefined) {
    const p = kwokPaths(o.stateDir, o.pkiDir);
    mkdirSync(p.dir, { recursive: true });
    writeFileSync(p.config, kwokConfig(p));
    writeFileSync(p.log, simulatedContainerLog());
    procs.start('kwok', o.bins.kwok!, [`--kubeconfig=${o.kubeconfig}`, `--config=${p.config}`, '--v=WARN']);
  }
  const items = Array.from({ length: o.count }, (_, i) => simulatedNode(i));
  // Server-side apply: a node that exists keeps the status kwok gave it.
  kubectl(o, ['apply', '--server-side', '--field-manager=kube-worker-test-cluster', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  // Generous: on a machine busy with other tests kwok and the API server answer slowly.
  await waitFor(`${o.count} simulated nodes Ready (${simulatedNodeName(0)} …)`, async () => (await readyNodes(o)) >= o.count, 180_000, procs.logOf('kwok'));
}

/** "N simulated nodes (kwok, pid P)" or why not, for `cluster:status`. */
export async function simulatedStatus(procs: Processes, o: Pick<SimulatedStart, 'apiGet'>): Promise<string> {
  const pid = procs.pidOf('kwok');
  if (pid === undefined) return 'none (kwok not running)';
  return `${await readyNodes(o as SimulatedStart)} Ready (kwok pid ${pid}, log ${procs.logOf('kwok')})`;
}

/**
 * Deletes every simulated node and stops kwok; the real node and everything on it stay. Tests that
 * added simulated nodes call it when they end, so that a shared cluster is back to one node.
 */
export async function removeSimulatedNodes(procs: Processes, o: Pick<SimulatedStart, 'kubeconfig' | 'bins'>): Promise<void> {
  const selector = Object.entries(simulated.label)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  kubectl(o, ['delete', 'nodes', '-l', selector, '--ignore-not-found', '--wait=false']);
  await procs.stop(['kwok'], 3_000, true);
}
