/**
 * The chart's KEDA ScaledObject (`executor.keda.enabled`) with KEDA itself on the real node: KEDA
 * v2.21.1's operator and metrics server, installed in the namespace `keda` by `npm run cluster:up --
 * --keda` (test/cluster/keda.ts; installed here too when it is missing, never skipped). Executors
 * follow the queue: none while nothing waits, one per waiting operation (concurrency 1), never
 * more than the queue needs, none again after the cooldown; one scaled away while it runs an
 * operation hands it back, and the operation runs once and ends with its own result. Only
 * conditions are awaited, each with a bound; wall times are printed, never asserted.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ticketLabel } from '../../executor/kubernetes/names.js';
import { up } from '../cluster/cluster.js';
import { kedaNamespace } from '../cluster/keda.js';
import { imageRef } from '../images/images.js';
import { bash } from '../integration/support/stack.js';
import { describeCluster, eventually, kubeconfigPath, useNamespace } from '../e2e/support/cluster.js';
import { CHART, describeHelm, helm, RELEASE, valuesFile } from './support/helm.js';
import { Api, releaseBasics, SMALL_DISPATCHER, SMALL_EXECUTOR, staticVolume, userShell, type StaticVolume } from './support/release.js';

const NAME = `${RELEASE}-kube-worker`;
const EXECUTOR = `${NAME}-executor`;
const POOL = 'deploy';
const COOLDOWN_SECONDS = 15;
/** Room above what the queue needs: a ScaledObject that over-scales would show it. */
const MAX_REPLICAS = 3;

const say = (line: string) => process.stderr.write(`[chart-keda] ${line}\n`);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const lines = (status: any): string[] => status.logs.filter((l: any) => l.stream === 'stdout').map((l: any) => l.text);
/** Runs until the test lets it go (`release`), then ends with its own line and exit code. */
const held = (last: string, exitCode: number) =>
  `echo begun; for i in $(seq 900); do [ -e "$KUBE_WORKER_WORKSPACE/go" ] && break; sleep 0.5; done; echo ${last}; exit ${exitCode}`;
const live = (pod: k8s.V1Pod) => !pod.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(pod.status?.phase ?? '');
const ready = (pod: k8s.V1Pod) => live(pod) && pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

describeHelm('KEDA scales the executors of a release on the real node', () => {
  describeCluster('a release with executor.keda.enabled', () => {
    const ns = useNamespace('chart-keda');
    const env = () => ({ KUBECONFIG: kubeconfigPath() });
    let volume: StaticVolume | undefined;
    let api: Api;
    /** The most executor pods seen alive at once, and the most replicas asked of the Deployment, since `watching` was reset. */
    const seen = { pods: 0, replicas: 0 };
    const livePods = new Map<string, k8s.V1Pod>();
    let watches: AbortController[] = [];

    const executors = async () =>
      (
        await ns.core.listNamespacedPod({
          namespace: ns.name,
          labelSelector: `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=executor`,
        })
      ).items.filter(live);
    const apps = () => ns.kc.makeApiClient(k8s.AppsV1Api);
    const stateOf = async (ticket: string) => (await api.call('GET', `/api/v1/operations/${ticket}?limit=100`)).body;
    const release = async (ticket: string) => {
      const [pod] = (await ns.core.listNamespacedPod({ namespace: ns.name, labelSelector: `kube-worker/ticket=${ticketLabel(ticket)}` })).items;
      userShell(`kubectl exec -n ${ns.name} ${pod!.metadata!.name} -c script -- sh -c 'touch "$KUBE_WORKER_WORKSPACE/go"'`);
    };

    /** What KEDA and the HPA it made see: for a failure message. */
    const kedaState = async (): Promise<string> => {
      const out: string[] = [];
      const run = (what: string, line: string) => {
        try {
          out.push(`--- ${what}\n${userShell(line, {}, 20_000).trim()}`);
        } catch (err) {
          out.push(`--- ${what}: ${String(err)}`);
        }
      };
      run('ScaledObject', `kubectl get scaledobject -n ${ns.name} ${EXECUTOR} -o jsonpath='{.status}'`);
      run('HPA', `kubectl get hpa -n ${ns.name} -o yaml | sed -n '/^  status:/,$p'`);
      run('external metric', `kubectl get --raw "${await metricPath()}"`);
      run('pods', `kubectl get pods -n ${ns.name} -o wide`);
      // A Job without its pod for long: the Job controller is behind (other tests' thousands of Jobs).
      run('jobs', `kubectl get jobs -n ${ns.name}`);
      run('events', `kubectl get events -n ${ns.name} --sort-by=.lastTimestamp | tail -n 15`);
      run('KEDA operator', `kubectl logs -n ${kedaNamespace} deploy/keda-operator --tail=25`);
      try {
        out.push(`--- queue ${JSON.stringify((await api.call('GET', '/api/v1/queues')).body)}`);
      } catch {
        /* the API may be what failed */
      }
      return out.join('\n');
    };
    /** Waits for a condition; on timeout, says what KEDA saw. */
    const until = async <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> => {
      try {
        return await eventually(what, fn, timeoutMs, 500);
      } catch (err) {
        throw new Error(`${String(err)}\n${await kedaState()}`);
      }
    };

    /** The external metric the HPA KEDA made reads (the ScaledObject's formula over its triggers). */
    async function metricPath(): Promise<string> {
      const hpa = (await ns.kc.makeApiClient(k8s.AutoscalingV2Api).listNamespacedHorizontalPodAutoscaler({ namespace: ns.name })).items[0];
      const metric = hpa?.spec?.metrics?.[0]?.external?.metric;
      if (!metric) throw new Error('no HPA with an external metric yet');
      const selector = Object.entries(metric.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return `/apis/external.metrics.k8s.io/v1beta1/namespaces/${ns.name}/${metric.name}?labelSelector=${encodeURIComponent(selector)}`;
    }
    const metricValue = async (): Promise<string> => {
      const list = JSON.parse(userShell(`kubectl get --raw "${await metricPath()}"`)) as { items: Array<{ value: string }> };
      return list.items[0]?.value ?? 'none';
    };

    beforeAll(async () => {
      // What `npm run cluster:up -- --keda` installs; brought up to date (or installed) here.
      const t0 = Date.now();
      await up({ keda: true });
      say(`KEDA in place: ${seconds(t0)}`);
      volume = await staticVolume(ns.kc, ns.name, '1Gi');
      const [product, redis, tools] = await Promise.all([imageRef('kube-worker'), imageRef('redis'), imageRef('script-tools')]);
      const values = valuesFile({
        ...releaseBasics({ product, redis, tools }, volume),
        dispatcher: { replicas: 1, resources: SMALL_DISPATCHER },
        executor: {
          pools: [POOL],
          // One operation per executor: executors and operations can be counted against each other.
          concurrency: 1,
          // Operations still running after 5 s of SIGTERM are handed back.
          shutdownGraceSeconds: 5,
          resources: SMALL_EXECUTOR,
          keda: { enabled: true, minReplicas: 0, maxReplicas: MAX_REPLICAS, waitingPerReplica: 1, pollingInterval: 2, cooldownPeriod: COOLDOWN_SECONDS },
        },
      });
      const install = await helm(['install', RELEASE, CHART, '--namespace', ns.name, '-f', values], env());
      expect(install.stderr).toBe('');
      const stored = await ns.core.readNamespacedSecret({ name: `${NAME}-api-token`, namespace: ns.name });
      const token = Buffer.from(stored.data!['api-token']!, 'base64').toString();
      const svc = await ns.core.readNamespacedService({ name: NAME, namespace: ns.name });
      api = new Api(`http://${svc.spec!.clusterIP}:${svc.spec!.ports![0]!.port}`, token);
      await until(
        'the dispatcher and Redis Ready',
        async () => {
          const all = (await ns.core.listNamespacedPod({ namespace: ns.name, labelSelector: `app.kubernetes.io/instance=${RELEASE}` })).items;
          const of = (component: string) => all.filter((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === component);
          return of('dispatcher').some(ready) && of('redis').some(ready) && (await api.call('GET', '/api/v1/worker')).status === 200;
        },
        300_000,
      );
      // Every executor pod and every replica count the Deployment is given, from here to the end.
      const watch = new k8s.Watch(ns.kc);
      watches = [
        await watch.watch(
          `/api/v1/namespaces/${ns.name}/pods`,
          { labelSelector: `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=executor` },
          (type, pod: k8s.V1Pod) => {
            if (type === 'DELETED' || !live(pod)) livePods.delete(pod.metadata!.uid!);
            else livePods.set(pod.metadata!.uid!, pod);
            seen.pods = Math.max(seen.pods, livePods.size);
          },
          () => undefined,
        ),
        await watch.watch(
          `/apis/apps/v1/namespaces/${ns.name}/deployments`,
          { fieldSelector: `metadata.name=${EXECUTOR}` },
          (_type, d: k8s.V1Deployment) => void (seen.replicas = Math.max(seen.replicas, d.spec?.replicas ?? 0)),
          () => undefined,
        ),
      ];
    }, 1_800_000);

    afterAll(async () => {
      for (const w of watches) w.abort();
      await helm(['uninstall', RELEASE, '--namespace', ns.name, '--wait', '--timeout', '3m'], env()).catch(() => undefined);
      await volume?.remove();
    });

    it('runs no executor while nothing waits, the external metric KEDA serves reading 0', async () => {
      const t0 = Date.now();
      await until(
        'no executor, the Deployment at 0 replicas',
        async () => (await apps().readNamespacedDeployment({ name: EXECUTOR, namespace: ns.name })).spec?.replicas === 0 && (await executors()).length === 0,
        240_000,
      );
      say(`helm install → executors at 0: ${seconds(t0)}`);
      expect(await until('the external metric', async () => metricValue().catch(() => undefined), 120_000)).toBe('0');
    }, 400_000);

    const tickets: string[] = [];

    it('scales from 0 to one executor per waiting operation, each running one, and to no more than the queue needs', async () => {
      seen.pods = livePods.size;
      seen.replicas = 0;
      const t0 = Date.now();
      tickets.push(await api.submit(bash(held('finished-0', 0), { pool: POOL })));
      tickets.push(await api.submit(bash(held('finished-1', 3), { pool: POOL })));
      await until(
        'both operations running, with two executors Ready',
        async () => {
          const states = await Promise.all(tickets.map(async (t) => (await stateOf(t)).state));
          const pods = await executors();
          return states.every((s) => s === 'running') && pods.length === 2 && pods.every(ready);
        },
        300_000,
      );
      say(`two operations submitted → both running, two executors Ready: ${seconds(t0)}`);
      // Concurrency 1: two running operations are on two executors. The metric reads what they need.
      expect(await until('the metric at 2', async () => (await metricValue()) === '2' && '2', 60_000)).toBe('2');
      // The HPA has acted on it: two replicas for an average of 1 (the formula's 2 over 2 pods).
      await until(
        'the HPA at 2 replicas for the metric at 2',
        async () => {
          const [hpa] = (await ns.kc.makeApiClient(k8s.AutoscalingV2Api).listNamespacedHorizontalPodAutoscaler({ namespace: ns.name })).items;
          const average = hpa?.status?.currentMetrics?.[0]?.external?.current?.averageValue;
          return hpa?.status?.currentReplicas === 2 && hpa.status.desiredReplicas === 2 && String(average) === '1';
        },
        120_000,
      );
      expect((await executors()).filter(ready)).toHaveLength(2);
      expect([seen.pods, seen.replicas]).toEqual([2, 2]);
    }, 480_000);

    it('has an executor scaled away while it runs an operation hand it back: each operation runs once and ends with its own result', async () => {
      expect(tickets).toHaveLength(2);
      const jobs = new Map<string, Set<string>>(tickets.map((t) => [ticketLabel(t), new Set<string>()]));
      const jobWatch = await new k8s.Watch(ns.kc).watch(
        `/apis/batch/v1/namespaces/${ns.name}/jobs`,
        {},
        (_type, job: k8s.V1Job) => jobs.get(job.metadata?.labels?.['kube-worker/ticket'] ?? '')?.add(job.metadata!.uid!),
        () => undefined,
      );
      const before = new Set((await executors()).map((p) => p.metadata!.uid));
      const t0 = Date.now();
      // At most one executor: KEDA gives its HPA the new bound, which takes one of the two away.
      const upgrade = await helm(['upgrade', RELEASE, CHART, '--namespace', ns.name, '--reuse-values', '--set', 'executor.keda.maxReplicas=1'], env());
      expect(upgrade.stderr).toBe('');
      await until(
        'one executor left of the two',
        async () => {
          const pods = (await ns.core.listNamespacedPod({ namespace: ns.name, labelSelector: `app.kubernetes.io/component=executor` })).items;
          return pods.length === 1 && before.has(pods[0]!.metadata!.uid) && ready(pods[0]!);
        },
        240_000,
      );
      say(`maxReplicas 1 → one executor left: ${seconds(t0)}`);
      // Neither has ended: one runs on the executor left, the other was handed back with its Job running.
      for (const status of await Promise.all(tickets.map(stateOf))) expect(['succeeded', 'failed', 'cancelled']).not.toContain(status.state);
      for (const t of tickets) await release(t);
      const finals = await Promise.all(tickets.map((t) => api.final(t, 300_000)));
      jobWatch.abort();
      expect(finals.map((s) => [s.state, s.exitCode, lines(s)])).toEqual([
        ['succeeded', 0, ['begun', 'finished-0']],
        ['failed', 3, ['begun', 'finished-1']],
      ]);
      expect([...jobs.values()].map((uids) => uids.size)).toEqual([1, 1]);
      say(`scaled away → both operations final: ${seconds(t0)}`);
    }, 600_000);

    it('scales back to 0 executors after the cooldown once nothing waits or runs', async () => {
      const t0 = Date.now();
      await until(
        'no executor, the Deployment at 0 replicas',
        async () => (await apps().readNamespacedDeployment({ name: EXECUTOR, namespace: ns.name })).spec?.replicas === 0 && (await executors()).length === 0,
        240_000,
      );
      say(`last operation final → executors at 0: ${seconds(t0)} (cooldown ${COOLDOWN_SECONDS} s)`);
      expect(await metricValue()).toBe('0');
    }, 300_000);
  });
});
