/**
 * `npm run bench:scale`: kube-worker at scale on simulated nodes (issue 23, item 2). Brings the test
 * cluster up with `--nodes` simulated nodes (test/cluster, kwok), then for each size: a bare client
 * creates the same Secrets and Jobs with @kubernetes/client-node (one watch), and kube-worker (a
 * dispatcher and 4 executor processes, kubernetes runtime) takes the operations as a burst of HTTP
 * submissions. Prints the wall-time ratio, the API requests per operation by verb, executor CPU and
 * memory, dispatcher CPU, Redis memory, queue wait and the most Jobs pending at once, and how the
 * per-operation cost grows from the first size to the last. Its last line is one JSON object.
 *
 *   npm run -s bench:scale                                   500 then 2,000 operations on 100 nodes
 *   npm run -s bench:scale -- --operations 200 --nodes 20    one smaller size
 *   npm run -s bench:scale -- --cancel 1000 --nodes 20       cancel at scale instead (item 3):
 *     1,000 long operations, cancelled at once once every executor slot runs one
 * Other flags: --executors (4), --concurrency (per executor, 50), --duration (seconds each pod
 * runs, 1), --in-flight (submissions or creates at once, 64), --no-bare, --qps (each executor's
 * Kubernetes API rate limit, burst twice that; the product's default, 20 and 40, when not given),
 * --cpu-profile DIR (each executor's V8 CPU profile, under DIR/<operations>/).
 */
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { up } from '../test/cluster/cluster.js';
import { startOwnRedis } from '../test/support/redis-server.js';
import { printCircumstances, row } from './support/report.js';
import { runCancelScale } from './support/cancel-scale.js';
import { runBareScale, runKubeWorkerScale, type BareScale, type KubeWorkerScale, type LifecyclePhase, type ScaleOptions } from './support/scale-run.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const number = (name: string, fallback: number): number => {
  const value = Number(flag(name) ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: "${flag(name)}" is not a positive number`);
  return value;
};

const SIZES = flag('operations') ? [number('operations', 0)] : [500, 2000];
const NODES = number('nodes', 100);
const EXECUTORS = number('executors', 4);
const CONCURRENCY = number('concurrency', 50);
const DURATION = number('duration', 1);
const IN_FLIGHT = number('in-flight', 64);
const BARE = !process.argv.includes('--no-bare');
const CANCEL = flag('cancel') ? number('cancel', 0) : undefined;
const QPS = flag('qps') ? number('qps', 0) : undefined;
const CPU_PROFILE = flag('cpu-profile');

interface Size {
  kubeWorker: KubeWorkerScale;
  bare?: BareScale;
  wallRatio?: number;
}

function print(size: Size): void {
  const { kubeWorker: kw, bare } = size;
  const widths = [52, 14];
  console.log(`— ${kw.operations} operations —`);
  if (bare) console.log(row(['wall time kube-worker / bare (goal ≤ 1.25)', `${size.wallRatio} (${kw.seconds} s / ${bare.seconds} s)`], widths));
  else console.log(row(['wall time kube-worker', `${kw.seconds} s`], widths));
  console.log(row(['succeeded', `${kw.succeeded} of ${kw.operations}`], widths));
  console.log(row(['API requests per operation, by verb and code', ''], widths));
  for (const [key, n] of Object.entries(kw.requests).sort()) console.log(row([`  ${key}`, (n / kw.operations).toFixed(2)], widths));
  console.log(row(['writes per operation (goal ≤ 6)', kw.writesPerOperation], widths));
  console.log(row(['watches per operation (goal 0)', kw.watchesPerOperation], widths));
  console.log(row([`Jobs pending at most (concurrency ${EXECUTORS * CONCURRENCY})`, kw.maxPendingJobs], widths));
  console.log(row(['  of which pods not yet running', kw.maxPendingPods], widths));
  console.log(row(['  Jobs not yet Complete nor deleted, at most', kw.maxUnendedJobs], widths));
  if (bare) console.log(row(['  bare client, all at once: Jobs pending / pods not running', `${bare.maxPendingJobs} / ${bare.maxPendingPods}`], widths));
  console.log(row(['Jobs made twice / operations without a Job', `${kw.jobsMadeAgain} / ${kw.withoutJob}`], widths));
  console.log(row(['queue wait, submit → Job created, p50 / p99 ms', `${kw.queueWaitMs.p50} / ${kw.queueWaitMs.p99}`], widths));
  for (const [phase, { p50, p99 }] of Object.entries(kw.phasesMs)) {
    const floor = bare?.phasesMs[phase as LifecyclePhase];
    const beside = floor ? `   (bare ${floor.p50} / ${floor.p99})` : '';
    console.log(row([`  ${phase}, p50 / p99 ms`, `${p50} / ${p99}${beside}`], widths));
  }
  console.log(row(['executor CPU per 1,000 operations (all executors)', `${((kw.executorCpuMsPerOperation * 1000) / 1000).toFixed(1)} s`], widths));
  console.log(row(['executor peak memory (largest of one)', `${kw.executorPeakRssMb} MB`], widths));
  console.log(row(['dispatcher CPU per submission', `${kw.dispatcherCpuMsPerSubmission} ms`], widths));
  console.log(row(['Redis memory per finished operation', `${kw.redisBytesPerOperation} bytes`], widths));
  console.log('');
}

const growth = (first: number, last: number): number => Number(((last / first - 1) * 100).toFixed(1));

async function main(): Promise<void> {
  const cluster = await up({ simulatedNodes: NODES });
  const redis = await startOwnRedis();
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfig);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const namespace = `bench-scale-${Date.now().toString(36)}`;
  printCircumstances('bench:scale', {
    operations: SIZES.join(','),
    nodes: NODES,
    executors: EXECUTORS,
    concurrency: CONCURRENCY,
    'pod seconds': DURATION,
    'in flight': IN_FLIGHT,
    bare: String(BARE),
    qps: QPS ?? 'default',
    kubernetes: cluster.version,
  });
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  if (CANCEL) {
    try {
      const options = {
        operations: CANCEL,
        executors: EXECUTORS,
        concurrency: CONCURRENCY,
        durationSeconds: 3600,
        inFlight: IN_FLIGHT,
        kubeconfig: cluster.kubeconfig,
        namespace,
        redisUrl: redis.url,
      };
      const run = await runCancelScale(options);
      console.log(`cancel at scale: ${run.operations} operations, ${run.runningAtCancel} running when cancelled (concurrency ${EXECUTORS * CONCURRENCY})`);
      console.log(
        `  cancel answers ${JSON.stringify(run.cancelAnswers)}; outcomes ${JSON.stringify(run.outcomes)}; all ended ${run.secondsToEnd} s after the first cancel`,
      );
      console.log(`  Jobs created after the cancels: ${run.jobsCreatedAfterCancel}; left in the namespace: ${JSON.stringify(run.left)}`);
      console.log(JSON.stringify(run));
    } finally {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await redis.remove();
    }
    return;
  }
  const sizes: Size[] = [];
  try {
    for (const operations of SIZES) {
      const options: ScaleOptions = {
        operations,
        executors: EXECUTORS,
        concurrency: CONCURRENCY,
        durationSeconds: DURATION,
        inFlight: IN_FLIGHT,
        kubeconfig: cluster.kubeconfig,
        namespace,
        redisUrl: redis.url,
        qps: QPS,
        ...(CPU_PROFILE ? { cpuProfileDir: path.resolve(CPU_PROFILE, String(operations)) } : {}),
      };
      const bare = BARE ? await runBareScale(options) : undefined;
      const kubeWorker = await runKubeWorkerScale(options);
      const size: Size = { kubeWorker, bare, wallRatio: bare ? Number((kubeWorker.seconds / bare.seconds).toFixed(2)) : undefined };
      print(size);
      sizes.push(size);
    }
  } finally {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await redis.remove();
  }
  const first = sizes[0]!.kubeWorker;
  const last = sizes.at(-1)!.kubeWorker;
  const costGrowthPercent =
    sizes.length > 1
      ? {
          writesPerOperation: growth(first.writesPerOperation, last.writesPerOperation),
          executorCpuMsPerOperation: growth(first.executorCpuMsPerOperation, last.executorCpuMsPerOperation),
          dispatcherCpuMsPerSubmission: growth(first.dispatcherCpuMsPerSubmission, last.dispatcherCpuMsPerSubmission),
          redisBytesPerOperation: growth(first.redisBytesPerOperation, last.redisBytesPerOperation),
        }
      : undefined;
  if (costGrowthPercent)
    console.log(`per-operation cost from ${first.operations} to ${last.operations} operations, % (goal ≤ 10): ${JSON.stringify(costGrowthPercent)}`);
  const lastSize = sizes.at(-1)!;
  console.log(
    JSON.stringify({
      operations: last.operations,
      nodes: NODES,
      executors: EXECUTORS,
      concurrency: EXECUTORS * CONCURRENCY,
      wallRatio: lastSize.wallRatio ?? null,
      seconds: last.seconds,
      bareSeconds: lastSize.bare?.seconds ?? null,
      succeeded: last.succeeded,
      writesPerOperation: last.writesPerOperation,
      watchesPerOperation: last.watchesPerOperation,
      maxPendingJobs: last.maxPendingJobs,
      maxPendingPods: last.maxPendingPods,
      maxUnendedJobs: last.maxUnendedJobs,
      jobsMadeAgain: last.jobsMadeAgain,
      queueWaitMs: last.queueWaitMs,
      executorCpuMsPerOperation: last.executorCpuMsPerOperation,
      executorPeakRssMb: last.executorPeakRssMb,
      dispatcherCpuMsPerSubmission: last.dispatcherCpuMsPerSubmission,
      redisBytesPerOperation: last.redisBytesPerOperation,
      requests: last.requests,
      ...(costGrowthPercent
        ? { costGrowthPercent, sizes: sizes.map((s) => ({ ...s.kubeWorker, bareSeconds: s.bare?.seconds ?? null, wallRatio: s.wallRatio ?? null })) }
        : {}),
    }),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
