/**
 * `helm install` as a user does it, on the test cluster's real node: the product's image, Redis
 * and the script tools from the local registry, in a namespace that enforces Pod Security
 * "restricted", with a Redis volume made the way a cluster without a provisioner makes one. Then
 * what a user's first hours bring: operations through the Service, an upgrade under a running
 * operation, a dispatcher pod and the Redis pod lost under load, a script pod the cluster refuses,
 * and the uninstall. Wall times are printed, never asserted.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ticketLabel } from '../../executor/kubernetes/names.js';
import { imageRef } from '../images/images.js';
import { bash, setVariable } from '../integration/support/stack.js';
import { describeCluster, eventually, kubeconfigPath, useNamespace } from '../e2e/support/cluster.js';
import { CHART, describeHelm, helm, RELEASE, valuesFile } from './support/helm.js';
import {
  Api,
  notesLine,
  podLine,
  portForwardFromNotes,
  releaseBasics,
  SMALL_DISPATCHER,
  SMALL_EXECUTOR,
  staticVolume,
  tokenFromNotes,
  userShell,
  type PortForward,
  type StaticVolume,
} from './support/release.js';

const NAME = `${RELEASE}-kube-worker`;
const POOL = 'deploy';
const FINAL_MS = 180_000;

const say = (line: string) => process.stderr.write(`[chart-install] ${line}\n`);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const lines = (status: any, stream = 'stdout'): string[] => status.logs.filter((l: any) => l.stream === stream).map((l: any) => l.text);
/** A script that runs until the test lets it go (`release`), so that no step depends on how fast the machine is. */
const held = (last: string) => `echo begun; for i in $(seq 600); do [ -e "$KUBE_WORKER_WORKSPACE/go" ] && break; sleep 0.5; done; echo ${last}`;

describeHelm('helm install on the real node', () => {
  describeCluster('a release in a namespace that enforces Pod Security restricted', () => {
    const ns = useNamespace('chart-install');
    const env = () => ({ KUBECONFIG: kubeconfigPath() });
    let volume: StaticVolume | undefined;
    let forward: PortForward | undefined;
    let values = '';
    let notes = '';
    /** The API through the Service's cluster address, as clients in the cluster reach it. */
    let service: Api;
    let scriptImage = '';

    const pods = async (component: string) =>
      (await ns.core.listNamespacedPod({ namespace: ns.name, labelSelector: `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=${component}` }))
        .items;
    const ready = (pod: k8s.V1Pod) => !pod.metadata?.deletionTimestamp && pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

    /** Waits until exactly `want` pods of each component are there and Ready; says why not on timeout. */
    async function allReady(want: Record<string, number>, timeoutMs: number): Promise<void> {
      let why = '';
      await eventually(
        'every pod of the release Ready',
        async () => {
          const all = await ns.core.listNamespacedPod({ namespace: ns.name, labelSelector: `app.kubernetes.io/instance=${RELEASE}` });
          const events = await ns.core.listNamespacedEvent({ namespace: ns.name });
          why = [
            ...all.items.map(podLine),
            ...events.items
              .filter((e) => e.type === 'Warning')
              .slice(-8)
              .map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}: ${e.reason} ${e.message}`),
          ].join('\n');
          return Object.entries(want).every(([component, n]) => {
            const of = all.items.filter((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === component && !p.metadata?.deletionTimestamp);
            return of.length === n && of.every(ready);
          });
        },
        timeoutMs,
        1000,
      ).catch((err) => {
        throw new Error(`${String(err)}\n${why}`);
      });
    }
    const RELEASE_PODS = { dispatcher: 2, executor: 1, redis: 1 };

    /** Lets a `held` script of this operation finish, through `kubectl exec` into its pod. */
    const release = async (ticket: string) => {
      const [pod] = (await ns.core.listNamespacedPod({ namespace: ns.name, labelSelector: `kube-worker/ticket=${ticketLabel(ticket)}` })).items;
      userShell(`kubectl exec -n ${ns.name} ${pod!.metadata!.name} -c script -- sh -c 'touch "$KUBE_WORKER_WORKSPACE/go"'`);
    };
    const stateOf = async (ticket: string) => (await service.call('GET', `/api/v1/operations/${ticket}?limit=100`)).body;

    // A case that failed may leave its held scripts running and their executor slots taken: they are
    // let go, so that the next case tells of itself rather than of this one.
    afterEach(async ({ task }) => {
      if (task.result?.state !== 'fail') return;
      const scripts = (await ns.core.listNamespacedPod({ namespace: ns.name, labelSelector: 'kube-worker/ticket' })).items;
      for (const pod of scripts.filter((p) => p.status?.phase === 'Running')) {
        try {
          userShell(`kubectl exec -n ${ns.name} ${pod.metadata!.name} -c script -- sh -c 'touch "$KUBE_WORKER_WORKSPACE/go"'`);
        } catch (error) {
          say(`could not let ${pod.metadata!.name} go: ${(error as Error).message}`);
        }
      }
    });

    beforeAll(async () => {
      await ns.core.patchNamespace({
        name: ns.name,
        body: [{ op: 'add', path: '/metadata/labels/pod-security.kubernetes.io~1enforce', value: 'restricted' }],
      });
      volume = await staticVolume(ns.kc, ns.name, '1Gi');
      const [product, redis, tools] = await Promise.all([imageRef('kube-worker'), imageRef('redis'), imageRef('script-tools')]);
      scriptImage = tools;
      // What a user sets: the image pushed to their registry, a pool, small script pods, a Redis
      // image and storage class of their cluster. The rest is small for a two-core machine.
      values = valuesFile({
        ...releaseBasics({ product, redis, tools }, volume),
        dispatcher: { resources: SMALL_DISPATCHER },
        executor: {
          replicas: 1,
          pools: [POOL],
          // Operations still running after 5 s of SIGTERM are handed back to the next executor.
          shutdownGraceSeconds: 5,
          resources: SMALL_EXECUTOR,
        },
      });
    }, 1_800_000);

    afterAll(async () => {
      forward?.close();
      await volume?.remove();
    });

    it('installs: two dispatchers, an executor and Redis on its bound volume, all Ready', async () => {
      const t0 = Date.now();
      const install = await helm(['install', RELEASE, CHART, '--namespace', ns.name, '-f', values], env());
      expect(install.stderr).toBe('');
      expect(install.stdout).toContain('STATUS: deployed');
      notes = install.stdout;
      try {
        userShell(notesLine(notes, 'kubectl rollout status'), {}, 420_000);
      } finally {
        // Says which pod is not Ready, and why, when the rollout did not finish.
        await allReady(RELEASE_PODS, 30_000);
      }
      say(`helm install → every pod Ready (NOTES.txt's kubectl rollout status): ${seconds(t0)}`);
      // Admitted under "restricted" already; and every container's root filesystem is read-only.
      const all = (await ns.core.listNamespacedPod({ namespace: ns.name, labelSelector: `app.kubernetes.io/instance=${RELEASE}` })).items;
      const readOnly = all.flatMap((p) => p.spec!.containers.map((c) => [c.name, c.securityContext?.readOnlyRootFilesystem]));
      expect(readOnly.sort()).toEqual([
        ['dispatcher', true],
        ['dispatcher', true],
        ['executor', true],
        ['redis', true],
      ]);
      const pvc = await ns.core.readNamespacedPersistentVolumeClaim({ name: `data-${NAME}-redis-0`, namespace: ns.name });
      expect([pvc.status?.phase, pvc.spec?.volumeName]).toEqual(['Bound', ns.name]);
    }, 600_000);

    it('runs operations as Jobs in its namespace, through the Service, with the token NOTES.txt tells of', async () => {
      const t0 = Date.now();
      const token = tokenFromNotes(notes);
      expect(token.length).toBeGreaterThanOrEqual(16);
      forward = await portForwardFromNotes(notes);
      const api = new Api(forward.url, token);
      expect((await api.call('GET', '/api/v1/operations/none', undefined)).status).toBe(404);
      expect((await new Api(forward.url, 'not-the-token-at-all').call('GET', '/api/v1/worker')).status).toBe(401);

      // NOTES.txt's first operation, by its own curl commands.
      const user = { KUBE_WORKER_URL: forward.url, KUBE_WORKER_API_TOKEN: token };
      expect(JSON.parse(userShell(notesLine(notes, 'curl -s -X POST'), user))).toMatchObject({ ticket: 'hello-1' });
      const hello = await api.final('hello-1', FINAL_MS);
      expect([hello.state, lines(hello)]).toEqual(['succeeded', [expect.stringMatching(/^hello from kw-hello-1-/)]]);
      expect(JSON.parse(userShell(notesLine(notes, 'curl -s -H'), user))).toMatchObject({ ticket: 'hello-1', state: 'succeeded' });

      const good = await api.submit(bash(`echo "hello from a Job"; ${setVariable('Answer', '42')}`, { pool: POOL }));
      const bad = await api.submit(bash('echo "about to fail" >&2; exit 3', { pool: POOL }));
      // A step may choose its own image: it runs as the same non-root user.
      const ownImage = await api.submit(bash('echo "uid=$(id -u)"', { pool: POOL, container: { image: scriptImage, pullPolicy: 'IfNotPresent' } }));
      const job = await eventually(
        'the Job of the first operation',
        async () => (await ns.batch.listNamespacedJob({ namespace: ns.name, labelSelector: `kube-worker/ticket=${ticketLabel(good)}` })).items[0],
        60_000,
      );
      expect(job.metadata?.labels).toMatchObject({ 'kube-worker/instance': RELEASE, 'kube-worker/pool': POOL });

      const succeeded = await api.final(good, FINAL_MS);
      expect(succeeded).toMatchObject({ state: 'succeeded', exitCode: 0, outputVariables: { Answer: { value: '42', sensitive: false } } });
      expect(lines(succeeded)).toContain('hello from a Job');
      const failed = await api.final(bad, FINAL_MS);
      expect([failed.state, failed.exitCode]).toEqual(['failed', 3]);
      expect(lines(failed, 'stderr')).toContain('about to fail');
      const own = await api.final(ownImage, FINAL_MS);
      expect([own.state, lines(own)]).toEqual(['succeeded', ['uid=1000']]);
      say(`four operations through kubectl port-forward: ${seconds(t0)}`);

      const svc = await ns.core.readNamespacedService({ name: NAME, namespace: ns.name });
      service = new Api(`http://${svc.spec!.clusterIP}:${svc.spec!.ports![0]!.port}`, token);
      expect((await service.call('GET', '/api/v1/worker')).body).toMatchObject({ healthy: true, problems: [] });
    }, 400_000);

    it('rolls every pod on helm upgrade while an operation runs, which completes exactly once', async () => {
      // Held until the rollout is over: the old executor hands it back, the new one adopts its Job.
      const ticket = await service.submit(bash(held('finished'), { pool: POOL }));
      const jobs = new Set<string>();
      const watch = await new k8s.Watch(ns.kc).watch(
        `/apis/batch/v1/namespaces/${ns.name}/jobs`,
        { labelSelector: `kube-worker/ticket=${ticketLabel(ticket)}` },
        (type, job: k8s.V1Job) => {
          if (type === 'ADDED') jobs.add(job.metadata!.uid!);
        },
        () => undefined,
      );
      await eventually(
        'the operation running',
        async () => {
          const { body } = await service.call('GET', `/api/v1/operations/${ticket}?limit=100`);
          return body.state === 'running' && lines(body).includes('begun');
        },
        120_000,
        500,
      );
      const before = new Set([...(await pods('executor')), ...(await pods('dispatcher'))].map((p) => p.metadata!.uid));

      const t0 = Date.now();
      const upgrade = await helm(['upgrade', RELEASE, CHART, '--namespace', ns.name, '--reuse-values', '--set', 'logLevel=debug'], env());
      expect(upgrade.stderr).toBe('');
      expect(upgrade.stdout).toContain('REVISION: 2');
      await eventually(
        'new executor and dispatcher pods only',
        async () => {
          const now = [...(await pods('executor')), ...(await pods('dispatcher'))];
          return now.length === 3 && now.every((p) => !before.has(p.metadata!.uid) && ready(p));
        },
        300_000,
        1000,
      );
      say(`helm upgrade → every dispatcher and executor pod replaced and Ready: ${seconds(t0)}`);
      expect((await stateOf(ticket)).state).toBe('running');

      await release(ticket);
      const status = await service.final(ticket, FINAL_MS);
      watch.abort();
      expect([status.state, status.exitCode]).toEqual(['succeeded', 0]);
      expect(lines(status).filter((l) => l === 'begun')).toHaveLength(1);
      expect(lines(status).filter((l) => l === 'finished')).toHaveLength(1);
      expect(jobs.size).toBe(1);
    }, 600_000);

    it('brings every accepted submission to a final state when a dispatcher pod is deleted under load', async () => {
      const accepted: string[] = [];
      const refused: string[] = [];
      const inFlight: Promise<void>[] = [];
      const t0 = Date.now();
      let deletedAt = 0;
      for (let i = 0; Date.now() - t0 < 12_000; i += 1) {
        inFlight.push(
          service.call('POST', '/api/v1/operations', bash(`echo load-${i}`, { pool: POOL })).then(
            (r) => void (r.status === 202 ? accepted.push(r.body.ticket) : refused.push(String(r.status))),
            (err) => void refused.push(String(err?.cause?.code ?? err)),
          ),
        );
        if (!deletedAt && Date.now() - t0 > 3000) {
          const victim = (await pods('dispatcher'))[0]!;
          await ns.core.deleteNamespacedPod({ name: victim.metadata!.name!, namespace: ns.name });
          deletedAt = Date.now();
        }
        await new Promise((r) => setTimeout(r, 400));
      }
      await Promise.all(inFlight);
      const acceptedAfter = accepted.length;
      const finals = await Promise.all(accepted.map((t) => service.final(t, 300_000)));
      say(
        `steady load: ${inFlight.length} submissions in 12 s, ${acceptedAfter} accepted, ${refused.length} not (${[...new Set(refused)].join(', ') || 'none'}); all final ${seconds(t0)} after the first`,
      );
      expect(deletedAt).toBeGreaterThan(0);
      expect(accepted.length).toBeGreaterThan(0);
      expect(finals.map((s) => s.state)).toEqual(accepted.map(() => 'succeeded'));
      await allReady(RELEASE_PODS, 120_000);
    }, 600_000);

    it('loses nothing queued when the Redis pod is deleted mid-run and comes back on its volume', async () => {
      const tickets: string[] = [];
      // Four held operations fill the executor (its concurrency); two more wait in the queue behind them.
      for (let i = 0; i < 4; i += 1) tickets.push(await service.submit(bash(held(`done-${i}`), { pool: POOL })));
      for (let i = 4; i < 6; i += 1) tickets.push(await service.submit(bash(`echo begun; echo done-${i}`, { pool: POOL })));
      await eventually(
        'four operations running',
        async () => {
          const states = await Promise.all(tickets.slice(0, 4).map(async (t) => (await stateOf(t)).state));
          return states.every((st) => st === 'running');
        },
        120_000,
        500,
      );
      expect([(await stateOf(tickets[4]!)).state, (await stateOf(tickets[5]!)).state]).toEqual(['queued', 'queued']);
      const [redis] = await pods('redis');
      const t0 = Date.now();
      await ns.core.deleteNamespacedPod({ name: redis!.metadata!.name!, namespace: ns.name });
      await eventually(
        'a new Redis pod Ready',
        async () => {
          const [now] = await pods('redis');
          return now && now.metadata!.uid !== redis!.metadata!.uid && ready(now);
        },
        180_000,
        500,
      );
      say(`Redis pod deleted → its successor Ready: ${seconds(t0)}`);
      for (const t of tickets.slice(0, 4)) await release(t);
      const finals = await Promise.all(tickets.map((t) => service.final(t, 300_000)));
      say(`all six operations final ${seconds(t0)} after the deletion`);
      expect(finals.map((s) => [s.state, lines(s)])).toEqual(tickets.map((_, i) => ['succeeded', ['begun', `done-${i}`]]));
    }, 600_000);

    it('fails a script pod the cluster refuses at once with the Pod Security reason', async () => {
      // No field of an operation can break "restricted" (image, pull policy and resources are all a
      // step chooses); a deployment's own script securityContext can.
      const upgrade = await helm(
        ['upgrade', RELEASE, CHART, '--namespace', ns.name, '--reuse-values', '--set', 'scriptPods.securityContext.allowPrivilegeEscalation=true'],
        env(),
      );
      expect(upgrade.stderr).toBe('');
      await eventually(
        'the new executor alone',
        async () => {
          const now = await pods('executor');
          return now.length === 1 && ready(now[0]!) && now[0]!.spec!.containers[0]!.env!.some((e) => e.name === 'KUBE_WORKER_SCRIPT_SECURITY_CONTEXT');
        },
        300_000,
        1000,
      );
      const t0 = Date.now();
      const ticket = await service.submit(bash('echo never', { pool: POOL }));
      const status = await service.final(ticket, 120_000);
      say(`refused script pod → operation failed: ${seconds(t0)} (pending timeout 600 s)`);
      expect([status.state, status.exitCode, status.failure?.reason]).toEqual(['failed', -42, 'RuntimeError']);
      expect(status.failure?.message).toMatch(/^Kubernetes refused to create the script pod: .*violates PodSecurity "restricted/);
      expect(lines(status)).not.toContain('never');
    }, 600_000);

    it('uninstalls leaving no Job, pod or Secret of kube-worker; the Redis volume claim stays', async () => {
      forward?.close();
      const t0 = Date.now();
      const uninstall = await helm(['uninstall', RELEASE, '--namespace', ns.name, '--wait', '--timeout', '5m'], env());
      expect(uninstall.stdout).toContain(`release "${RELEASE}" uninstalled`);
      await eventually('no pod left', async () => (await ns.core.listNamespacedPod({ namespace: ns.name })).items.length === 0, 180_000, 1000);
      say(`helm uninstall → no pod left: ${seconds(t0)}`);
      expect((await ns.batch.listNamespacedJob({ namespace: ns.name })).items).toEqual([]);
      const secrets = (await ns.core.listNamespacedSecret({ namespace: ns.name })).items.map((s) => s.metadata!.name);
      expect(secrets).toEqual([]);
      // A StatefulSet's claims outlive it: the queue's data stays until the user deletes the claim.
      const claims = (await ns.core.listNamespacedPersistentVolumeClaim({ namespace: ns.name })).items;
      expect(claims.map((c) => [c.metadata!.name, c.status!.phase])).toEqual([[`data-${NAME}-redis-0`, 'Bound']]);
      await ns.core.deleteNamespacedPersistentVolumeClaim({ name: `data-${NAME}-redis-0`, namespace: ns.name });
    }, 400_000);
  });
});
