/**
 * The test cluster's node: a private containerd (Debian's, with runc and the CNI plugins), the
 * kubelet and kube-proxy (from the `kwnode` binary built here), and the cluster DNS in the cluster.
 * Started after the control plane; stopped before it, pods and all, leaving no container, mount,
 * bridge or iptables rule behind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { corednsManifest } from './coredns.js';
import { network, nodePaths, writeNodeConfigs, type NodeOptions } from './node-config.js';
import {
  hostProblems,
  killPodProcesses,
  nodePath,
  removeContainerLogLinks,
  removePodCgroups,
  tearDownHostNetwork,
  unmountPodNetns,
  unmountUnder,
} from './node-host.js';
import { alive } from '../support/pid-lock.js';
import { log, type Processes, waitFor } from './processes.js';

export const nodeComponents = ['containerd', 'kubelet', 'kube-proxy'] as const;

export interface NodeStart {
  nodeName: string;
  pkiDir: string;
  kubeletPort: number;
  bins: { kubelet: string; 'kube-proxy': string; kubectl: string };
  images: { pause: string; coredns: string };
  plainHttpRegistries: string[];
}

/** Says exactly why this machine cannot run the node. */
export class NodeUnavailableError extends Error {
  constructor(problems: string[]) {
    super(`the test cluster's node (kubelet + containerd) cannot run here: ${problems.join('; ')}`);
    this.name = 'NodeUnavailableError';
  }
}

export function checkHost(): void {
  const problems = hostProblems();
  if (problems.length > 0) throw new NodeUnavailableError(problems);
}

/** Pods get 8Gi of allocatable memory, whatever the machine has (less when it has less). */
export function systemReservedMemory(meminfo = readFileSync('/proc/meminfo', 'utf8'), allocatable = 8 * 1024 ** 3): string {
  const totalKiB = Number(/^MemTotal:\s+(\d+) kB/m.exec(meminfo)?.[1] ?? 0);
  const evictionHard = 100 * 1024 ** 2; // the kubelet's memory.available threshold, see node-config
  const reserved = Math.max(0, totalKiB * 1024 - allocatable - evictionHard);
  return `${Math.floor(reserved / 1024 ** 2)}Mi`;
}

const ports = { kubeletHealthz: 16248, proxyHealthz: 16256, proxyMetrics: 16249 };

function ctr(socket: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('ctr', ['--address', socket, ...args], { encoding: 'utf8', env: { ...process.env, PATH: nodePath() }, timeout: 30_000 });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Starts containerd, the kubelet and kube-proxy (the control plane answers already). */
export async function startNode(procs: Processes, o: NodeStart): Promise<void> {
  const p = nodePaths(procs.stateDir);
  const options: NodeOptions = {
    pkiDir: o.pkiDir,
    kubeletPort: o.kubeletPort,
    kubeletHealthzPort: ports.kubeletHealthz,
    proxyHealthzPort: ports.proxyHealthz,
    proxyMetricsPort: ports.proxyMetrics,
    sandboxImage: o.images.pause,
    plainHttpRegistries: o.plainHttpRegistries,
    systemReservedMemory: systemReservedMemory(),
  };
  writeNodeConfigs(p, options, o.nodeName);
  const env = { PATH: nodePath() };
  procs.start('containerd', 'containerd', ['--config', p.containerdConfig, '--log-level', 'warn'], env);
  await waitFor(
    'containerd',
    async () => existsSync(p.containerdSocket) && ctr(p.containerdSocket, ['version']).status === 0,
    20_000,
    procs.logOf('containerd'),
  );
  procs.start(
    'kubelet',
    o.bins.kubelet,
    [
      `--config=${p.kubeletConfig}`,
      `--kubeconfig=${o.pkiDir}/node.kubeconfig`,
      `--root-dir=${p.kubeletRoot}`,
      `--node-ip=${network.nodeIP}`,
      `--hostname-override=${o.nodeName}`,
      '--v=1',
    ],
    env,
  );
  procs.start('kube-proxy', o.bins['kube-proxy'], [`--config=${p.proxyConfig}`, '--v=1'], env);
}

/** Applies the cluster DNS and waits until it answers (its pod Ready). */
export async function startDns(procs: Processes, o: NodeStart, kubeconfig: string): Promise<void> {
  const r = spawnSync(o.bins.kubectl, ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--force-conflicts', '-f', '-'], {
    input: JSON.stringify(corednsManifest(o.images.coredns)),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`cluster: applying the cluster DNS failed: ${r.stderr}`);
  const ready = () => {
    const s = spawnSync(
      o.bins.kubectl,
      ['--kubeconfig', kubeconfig, '-n', 'kube-system', 'get', 'deployment', 'coredns', '-o', 'jsonpath={.status.readyReplicas}'],
      { encoding: 'utf8' },
    );
    return s.stdout.trim() === '1';
  };
  await waitFor('the cluster DNS (CoreDNS Ready)', async () => ready(), 90_000, procs.logOf('kubelet'));
}

/** The runtime's shims of this node (they outlive containerd). */
function shimPids(socket: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('containerd-shim-runc-v2') && cmd.includes(socket)) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/**
 * Stops the node: the kubelet and kube-proxy first, then every pod through the runtime (containers
 * killed, pod networks and mounts released), then containerd; then removes what is left on the
 * machine. Returns what it removed.
 */
export async function stopNode(procs: Processes, sweepBin: string | undefined, quiet: boolean): Promise<string[]> {
  const p = nodePaths(procs.stateDir);
  const removed: string[] = [];
  await procs.stop(['kubelet', 'kube-proxy'], 10_000, quiet);
  if (procs.pidOf('containerd') !== undefined && sweepBin) {
    const r = spawnSync(sweepBin, ['sweep', `--endpoint=unix://${p.containerdSocket}`, '--timeout=60s'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: nodePath() },
    });
    if (r.status !== 0) log(`removing the pods failed (continuing): ${r.stderr.trim()}`);
    else if (!quiet) log(r.stdout.trim());
  }
  await procs.stop(['containerd'], 10_000, quiet);
  for (const pid of shimPids(p.containerdSocket)) {
    try {
      process.kill(pid, 'SIGKILL');
      removed.push(`shim ${pid}`);
    } catch {
      /* gone */
    }
  }
  const t0 = Date.now();
  while (shimPids(p.containerdSocket).some(alive) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 100));
  const orphans = killPodProcesses();
  if (orphans > 0) {
    removed.push(`${orphans} pod processes`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const mounts = unmountUnder([procs.stateDir]);
  if (mounts.length > 0) removed.push(`${mounts.length} mounts`);
  const netns = unmountPodNetns();
  if (netns.length > 0) removed.push(`${netns.length} pod network namespaces`);
  const cgroups = removePodCgroups();
  if (cgroups > 0) removed.push(`${cgroups} pod cgroups`);
  const links = removeContainerLogLinks(p.podLogs);
  if (links > 0) removed.push(`${links} log links`);
  return removed;
}

/** After the control plane stopped: the node's bridges and iptables rules, and its per-run files. */
export function tearDownNodeHost(stateDir: string): string[] {
  const removed = tearDownHostNetwork();
  const p = nodePaths(stateDir);
  // Containers, pods, their volumes and logs are per run; images (containerd's root) are kept.
  if (unmountUnder([p.dir]).length === 0) rmSync(p.dir, { recursive: true, force: true });
  return removed;
}
