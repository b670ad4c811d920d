/**
 * kube-worker as it is deployed at scale: one dispatcher and several executors, each a process of
 * its own started with the product's CLI (kubernetes runtime), so that each one's CPU time and
 * memory can be read from /proc and each executor's Kubernetes API requests from its own metrics
 * endpoint (kube_worker_kubernetes_requests_total).
 */
import { healthy, spawnCli, waitUntilStarted, type CliChild } from '../../test/support/cli-process.js';
import { freePort } from '../../test/support/free-port.js';
import { TOKEN } from './operation.js';

/** Generous: on a busy machine a process compiles its TypeScript slowly. */
const STARTS_WITHIN = 300_000;

export interface KubeWorkerProcesses {
  dispatcherUrl: string;
  dispatcherPid: number;
  executorPids: number[];
  /** Kubernetes API requests of every executor so far, by "verb code". */
  requests(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

async function metricsOf(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^kube_worker_kubernetes_requests_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const key = `${labels.verb} ${labels.code}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(match[2]));
  }
  return counts;
}

const stop = async (cli: CliChild): Promise<void> => {
  if (cli.process.exitCode !== null || cli.process.signalCode !== null) return;
  cli.process.kill('SIGTERM');
  const killer = setTimeout(() => cli.process.kill('SIGKILL'), 20_000);
  await cli.exited;
  clearTimeout(killer);
};

/**
 * `env`: the deployment's settings (REDIS_URL, KUBECONFIG, KUBE_WORKER_*), the same for every
 * process. `cpuProfileDir`: each executor writes a V8 CPU profile there when it exits.
 */
export async function startKubeWorkerProcesses(env: Record<string, string>, executors: number, cpuProfileDir?: string): Promise<KubeWorkerProcesses> {
  const all: CliChild[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(all.map(stop));
  };
  try {
    const port = await freePort();
    const dispatcher = spawnCli('dispatcher', { ...env, HOST: '127.0.0.1', PORT: String(port), KUBE_WORKER_API_TOKEN: TOKEN }, 256 * 1024);
    all.push(dispatcher);
    const dispatcherUrl = `http://127.0.0.1:${port}`;
    const metricsPorts: number[] = [];
    const starting: Array<Promise<void>> = [waitUntilStarted('dispatcher', dispatcher, () => healthy(dispatcherUrl), STARTS_WITHIN)];
    for (let i = 0; i < executors; i += 1) {
      const metricsPort = await freePort();
      metricsPorts.push(metricsPort);
      const profile: Record<string, string> = cpuProfileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${cpuProfileDir}` } : {};
      const executor = spawnCli('executor', { ...env, HOST: '127.0.0.1', KUBE_WORKER_METRICS_PORT: String(metricsPort), ...profile }, 256 * 1024);
      all.push(executor);
      starting.push(waitUntilStarted('executor', executor, () => executor.output().includes('executor started'), STARTS_WITHIN));
    }
    const failed = (await Promise.allSettled(starting)).find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    return {
      dispatcherUrl,
      dispatcherPid: dispatcher.process.pid!,
      executorPids: all.slice(1).map((c) => c.process.pid!),
      async requests() {
        const total = new Map<string, number>();
        for (const counts of await Promise.all(metricsPorts.map(metricsOf))) for (const [key, n] of counts) total.set(key, (total.get(key) ?? 0) + n);
        return total;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
