/**
 * bench:k8s — on the test cluster (test/cluster), pods pulling the script tools image:
 *
 * 1. Time to first line, one operation at a time on the idle cluster: submit → first script line
 *    and submit → final state, p50 and p90, for kube-worker and for a bare client that creates the
 *    same Job and follows its log, samples alternating (goal: kube-worker's p50 first line ≤ 1.5 s).
 * 2. 100 trivial operations at once through kube-worker's kubernetes runtime against a bare script
 *    that creates the same Jobs and waits on one watch, alternating the two. Prints the ratio of
 *    wall times (goal ≤ 1.25) and kube-worker's API requests per operation by verb (goal: ≤ 6
 *    writes, no watch or poll per operation).
 */
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { readConfig } from '../core/config.js';
import { runBareJobs } from './support/bare-jobs.js';
import { bareSample, kubeWorkerSample, type FirstLineSample } from './support/first-line.js';
import { runKubeWorker, startKubeWorker } from './support/k8s-kube-worker.js';
import { TOKEN } from './support/operation.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-prefix.js';
import { printCircumstances, row } from './support/report.js';
import { fixed, median, percentile } from './support/stats.js';

const COUNT = Number(process.env.BENCH_OPERATIONS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONCURRENCY = COUNT;
const FIRST_LINE_SAMPLES = Number(process.env.BENCH_FIRST_LINE_SAMPLES ?? 20);
const WRITES = new Set(['create', 'patch', 'delete', 'update']);

/** Part 1: one operation at a time, kube-worker and the bare client alternating. */
async function timeToFirstLine(kubeConfig: k8s.KubeConfig, namespace: string, settings: Record<string, string>): Promise<void> {
  const prefix = uniquePrefix('k8s-first');
  const config = readConfig({ ...settings, KUBE_WORKER_PREFIX: prefix });
  const kw = await startKubeWorker(config, REDIS_URL, path.join(os.tmpdir(), `bench-k8s-${prefix}.log`));
  const samples: { kw: FirstLineSample[]; bare: FirstLineSample[] } = { kw: [], bare: [] };
  try {
    // One of each first, not counted: the image is on the node, the watches are open.
    for (let n = -1; n < FIRST_LINE_SAMPLES; n += 1) {
      const k = await kubeWorkerSample(kw.baseUrl, `first-${n + 1}`);
      const b = await bareSample(kubeConfig, namespace, config, `first-bare-${n + 1}`);
      if (n < 0) continue;
      samples.kw.push(k);
      samples.bare.push(b);
    }
  } finally {
    await kw.close();
    await deletePrefix(REDIS_URL, prefix);
  }
  const s = (values: number[]): string[] => [fixed(percentile(values, 50) / 1000), fixed(percentile(values, 90) / 1000)];
  const widths = [44, 8, 8];
  console.log(row(['time to first line, s (one at a time)', 'p50', 'p90'], widths));
  console.log(row(['kube-worker: submit → first line', ...s(samples.kw.map((x) => x.firstLine))], widths));
  console.log(row(['bare Job + log follow: create → first line', ...s(samples.bare.map((x) => x.firstLine))], widths));
  console.log(row(['kube-worker: submit → final state', ...s(samples.kw.map((x) => x.final))], widths));
  console.log(row(['bare Job: create → Job ended', ...s(samples.bare.map((x) => x.final))], widths));
  console.log(
    `kube-worker p50 first line: ${fixed(
      percentile(
        samples.kw.map((x) => x.firstLine),
        50,
      ) / 1000,
    )} s (goal ≤ 1.5 s)`,
  );
  console.log('');
}

/** Given by `npm run bench:k8s`, which brings the test cluster up (test/cluster) and names its kubeconfig and image. */
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this bench with \`npm run bench:k8s\`, which brings the test cluster up and sets it`);
  return value;
}

async function main(): Promise<void> {
  const cluster = { kubeconfig: required('KUBECONFIG') };
  const scriptImage = required('KUBE_WORKER_SCRIPT_IMAGE');
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfig);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const namespace = `bench-k8s-${Date.now().toString(36)}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  for (let i = 0; i < 100; i += 1) {
    if (
      await core.readNamespacedServiceAccount({ name: 'default', namespace }).then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const settings = {
    KUBECONFIG: cluster.kubeconfig,
    KUBE_WORKER_NAMESPACE: namespace,
    KUBE_WORKER_RUNTIME: 'kubernetes',
    KUBE_WORKER_SCRIPT_IMAGE: scriptImage,
    KUBE_WORKER_API_TOKEN: TOKEN,
    KUBE_WORKER_CONCURRENCY: String(CONCURRENCY),
    KUBE_WORKER_SCRIPT_REQUESTS_CPU: '10m',
    KUBE_WORKER_SCRIPT_REQUESTS_MEMORY: '16Mi',
    KUBE_WORKER_K8S_QPS: process.env.KUBE_WORKER_K8S_QPS ?? '200',
    KUBE_WORKER_K8S_BURST: process.env.KUBE_WORKER_K8S_BURST ?? '400',
  };
  printCircumstances('bench:k8s', {
    operations: COUNT,
    rounds: ROUNDS,
    concurrency: CONCURRENCY,
    qps: settings.KUBE_WORKER_K8S_QPS,
    burst: settings.KUBE_WORKER_K8S_BURST,
    kubernetes: (await kubeConfig.makeApiClient(k8s.VersionApi).getCode()).gitVersion,
    image: settings.KUBE_WORKER_SCRIPT_IMAGE,
    'first-line samples': FIRST_LINE_SAMPLES,
  });

  try {
    await timeToFirstLine(kubeConfig, namespace, settings);
  } catch (error) {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    throw error;
  }

  const bare: number[] = [];
  const kw: number[] = [];
  let requests = new Map<string, number>();
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      const prefix = uniquePrefix('k8s');
      const config = readConfig({ ...settings, KUBE_WORKER_PREFIX: prefix });
      bare.push(await runBareJobs(kubeConfig, namespace, config, COUNT, `bare${round}`));
      const run = await runKubeWorker(config, REDIS_URL, COUNT, path.join(os.tmpdir(), `bench-k8s-${prefix}.log`));
      if (run.succeeded !== COUNT) throw new Error(`kube-worker: ${run.succeeded} of ${COUNT} operations succeeded`);
      kw.push(run.seconds);
      requests = run.requests;
      await deletePrefix(REDIS_URL, prefix);
      console.log(row([`round ${round + 1}`, `bare ${bare.at(-1)!.toFixed(2)} s`, `kube-worker ${kw.at(-1)!.toFixed(2)} s`], [10, 16, 20]));
    }
  } finally {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  }

  const ratio = median(kw) / median(bare);
  console.log('');
  console.log(
    `wall time, ${COUNT} operations (median of ${ROUNDS}): kube-worker ${median(kw).toFixed(2)} s, bare Jobs + one watch ${median(bare).toFixed(2)} s`,
  );
  console.log(`ratio kube-worker / bare: ${ratio.toFixed(2)} (goal ≤ 1.25)`);
  console.log('');
  console.log('kube-worker Kubernetes API requests per operation (last round), by verb and code:');
  let writes = 0;
  for (const [key, value] of [...requests].sort()) {
    console.log(`  ${key.padEnd(12)} ${(value / COUNT).toFixed(2)}`);
    if (WRITES.has(key.split(' ')[0]!)) writes += value;
  }
  console.log(
    `writes per operation: ${(writes / COUNT).toFixed(2)} (goal ≤ 6); watches per operation: ${((requests.get('watch 200') ?? 0) / COUNT).toFixed(2)}`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
