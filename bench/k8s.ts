/**
 * bench:k8s — on the test cluster (test/cluster), pods pulling the script tools image:
 *
 * 1. Time to first line, one operation at a time on the idle cluster: submit → first script line
 *    and submit → final state, p50 and p90, for kube-worker with cold pods, kube-worker with warm
 *    pods (KUBE_WORKER_WARM_PODS) and a bare client that creates the same Job and follows its log,
 *    samples alternating; printed as ratios to the bare client's figures of the same run.
 * 2. 100 trivial operations at once through kube-worker's kubernetes runtime (cold, and with a warm
 *    pool of 8) against a bare script that creates the same Jobs and waits on one watch,
 *    alternating. Prints the ratios of wall times (goals ≤ 1.25 to bare, warm ≤ cold) and
 *    kube-worker's API requests per operation by verb (goal: ≤ 6 writes, no watch or poll per
 *    operation).
 */
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { readConfig } from '../core/config.js';
import { runBareJobs } from './support/bare-jobs.js';
import { bareSample, FIRST_LINE_SCRIPT, kubeWorkerSample, type FirstLineSample } from './support/first-line.js';
import { runKubeWorker, startKubeWorker, type KubeWorkerStarted } from './support/k8s-kube-worker.js';
import { TOKEN } from './support/operation.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-prefix.js';
import { printCircumstances, row } from './support/report.js';
import { fixed, median, percentile, ratio } from './support/stats.js';

const COUNT = Number(process.env.BENCH_OPERATIONS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONCURRENCY = Math.max(COUNT, 1);
const FIRST_LINE_SAMPLES = Number(process.env.BENCH_FIRST_LINE_SAMPLES ?? 20);
/** Warm script pods of the warm kube-worker in part 1, and of the warm rounds of part 2. */
const WARM_PODS = Number(process.env.BENCH_WARM_PODS ?? 2);
const BURST_WARM_PODS = Number(process.env.BENCH_BURST_WARM_PODS ?? 8);
const WRITES = new Set(['create', 'patch', 'delete', 'update']);

type Variant = 'cold' | 'warm' | 'bare';
const LABELS: Record<Variant, string> = { cold: 'kube-worker, cold pod', warm: 'kube-worker, warm pod', bare: 'bare client (Job + log follow)' };

/**
 * Part 1: one operation at a time, cold kube-worker, warm kube-worker and the bare client taking
 * turns (cold, warm, bare, then bare, warm, cold). The warm one's pool is full before each of its
 * samples (untimed): that is what a warm pod is for. A build without warm pods runs cold and bare.
 */
async function timeToFirstLine(kubeConfig: k8s.KubeConfig, namespace: string, settings: Record<string, string>): Promise<void> {
  const cold = readConfig({ ...settings, KUBE_WORKER_PREFIX: uniquePrefix('k8s-cold') });
  const warm = readConfig({ ...settings, KUBE_WORKER_PREFIX: uniquePrefix('k8s-warm'), KUBE_WORKER_WARM_PODS: String(WARM_PODS) });
  const hasWarm = (warm as { warmPods?: number }).warmPods === WARM_PODS;
  const started = { cold: await startKubeWorker(cold, REDIS_URL, path.join(os.tmpdir(), `bench-k8s-${cold.prefix}.log`)) } as Record<
    Variant,
    KubeWorkerStarted
  >;
  if (hasWarm) started.warm = await startKubeWorker(warm, REDIS_URL, path.join(os.tmpdir(), `bench-k8s-${warm.prefix}.log`));
  const variants: Variant[] = hasWarm ? ['cold', 'warm', 'bare'] : ['cold', 'bare'];
  const samples: Record<Variant, FirstLineSample[]> = { cold: [], warm: [], bare: [] };
  const take = async (variant: Variant, n: number): Promise<FirstLineSample> => {
    if (variant === 'bare') return bareSample(kubeConfig, namespace, cold, `first-bare-${n}`);
    if (variant === 'warm') await started.warm.warmReady(WARM_PODS, 60_000);
    return kubeWorkerSample(started[variant].baseUrl, `first-${variant}-${n}`);
  };
  try {
    // One of each first, not counted: the image is on the node, the watches are open.
    for (let n = -1; n < FIRST_LINE_SAMPLES; n += 1) {
      const order = n % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) {
        const sample = await take(variant, n + 1);
        if (n >= 0) samples[variant].push(sample);
      }
    }
  } finally {
    for (const kw of Object.values(started)) await kw.close();
    await deletePrefix(REDIS_URL, cold.prefix);
    await deletePrefix(REDIS_URL, warm.prefix);
  }
  const p = (values: number[], q: number): number => percentile(values, q) / 1000;
  const widths = [46, 8, 8, 11, 11];
  const table = (title: string, of: (x: FirstLineSample) => number): void => {
    const bare = samples.bare.map(of);
    console.log(row([title, 'p50 s', 'p90 s', 'p50 ×bare', 'p90 ×bare'], widths));
    for (const variant of variants) {
      const values = samples[variant].map(of);
      console.log(
        row([`  ${LABELS[variant]}`, fixed(p(values, 50)), fixed(p(values, 90)), ratio(p(values, 50), p(bare, 50)), ratio(p(values, 90), p(bare, 90))], widths),
      );
    }
  };
  console.log(`one operation at a time, \`${FIRST_LINE_SCRIPT}\`, ${FIRST_LINE_SAMPLES} samples each, alternating`);
  table('submit → first line', (x) => x.firstLine);
  table('submit → final state (bare: Job ended)', (x) => x.final);
  for (const variant of variants.filter((v) => v !== 'bare')) {
    const gap = percentile(
      samples[variant].map((x) => x.final - x.firstLine),
      50,
    );
    console.log(`${LABELS[variant]}: final state − first line p50 ${fixed(gap, 0)} ms (goal ≤ 150 ms)`);
  }
  if (hasWarm) {
    const warmFirst = p(
      samples.warm.map((x) => x.firstLine),
      50,
    );
    const bareFirst = p(
      samples.bare.map((x) => x.firstLine),
      50,
    );
    console.log(`warm first line p50 ${fixed(warmFirst * 1000, 0)} ms, ${ratio(warmFirst, bareFirst)} the bare client's (goals ≤ 200 ms and ≤ 0.25×)`);
  }
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

  if (COUNT === 0) {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    return;
  }
  const bare: number[] = [];
  const kw: number[] = [];
  const kwWarm: number[] = [];
  const warmSupported = (readConfig({ ...settings, KUBE_WORKER_WARM_PODS: String(BURST_WARM_PODS) }) as { warmPods?: number }).warmPods === BURST_WARM_PODS;
  let requests = new Map<string, number>();
  const kubeWorkerRound = async (round: number, warmPods: number): Promise<number> => {
    const prefix = uniquePrefix(warmPods > 0 ? 'k8s-warm' : 'k8s');
    const config = readConfig({ ...settings, KUBE_WORKER_PREFIX: prefix, ...(warmPods > 0 ? { KUBE_WORKER_WARM_PODS: String(warmPods) } : {}) });
    const run = await runKubeWorker(config, REDIS_URL, COUNT, path.join(os.tmpdir(), `bench-k8s-${prefix}.log`), warmPods);
    if (run.succeeded !== COUNT) throw new Error(`kube-worker: ${run.succeeded} of ${COUNT} operations succeeded`);
    if (warmPods === 0) requests = run.requests;
    await deletePrefix(REDIS_URL, prefix);
    return run.seconds;
  };
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      const config = readConfig({ ...settings, KUBE_WORKER_PREFIX: uniquePrefix('k8s-bare') });
      const turns = [
        async () => void bare.push(await runBareJobs(kubeConfig, namespace, config, COUNT, `bare${round}`)),
        async () => void kw.push(await kubeWorkerRound(round, 0)),
        ...(warmSupported ? [async () => void kwWarm.push(await kubeWorkerRound(round, BURST_WARM_PODS))] : []),
      ];
      for (const turn of round % 2 === 0 ? turns : [...turns].reverse()) await turn();
      console.log(
        row(
          [
            `round ${round + 1}`,
            `bare ${bare.at(-1)!.toFixed(2)} s`,
            `kube-worker ${kw.at(-1)!.toFixed(2)} s`,
            ...(warmSupported ? [`kube-worker, ${BURST_WARM_PODS} warm pods ${kwWarm.at(-1)!.toFixed(2)} s`] : []),
          ],
          [10, 16, 20, 36],
        ),
      );
    }
  } finally {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  }

  console.log('');
  console.log(
    `wall time, ${COUNT} operations at once (median of ${ROUNDS}): kube-worker ${median(kw).toFixed(2)} s, bare Jobs + one watch ${median(bare).toFixed(2)} s${
      warmSupported ? `, kube-worker with ${BURST_WARM_PODS} warm pods ${median(kwWarm).toFixed(2)} s` : ''
    }`,
  );
  console.log(`ratio kube-worker / bare: ${ratio(median(kw), median(bare))} (goal ≤ 1.25)`);
  if (warmSupported) console.log(`ratio warm kube-worker / cold kube-worker: ${ratio(median(kwWarm), median(kw))} (goal ≤ 1)`);
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
