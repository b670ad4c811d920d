/**
 * Packages on Kubernetes: the script pod's `fetch` init container (kube-worker's own image,
 * `kube-worker fetch`) downloads them into the workspace volume before the script starts, its
 * lines reach the operation's log, and a package that cannot be fetched ends the operation with
 * PackageFailed before the script runs. The feed is a server of this test, listening on its node's
 * address, where the pod reaches it. The node pulls the fetch image, kube-worker's own built from the
 * Dockerfile (test/images: imageRef('kube-worker')), whose PATH has `kube-worker`.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { imageRef } from '../images/images.js';
import { bash } from '../integration/support/stack.js';
import { sha256, tar } from '../support/archives.js';
import { startPackageServer, type PackageServer } from '../support/package-server.js';
import { adminKubeConfig, describeCluster, eventually } from './support/cluster.js';
import { useKubeWorker } from './support/kube-worker.js';

describeCluster('packages on Kubernetes', () => {
  const SECRET_HEADER = 'e2e-feed-key-never-shown';
  const env: Record<string, string> = {};
  let feed: PackageServer;
  let feedUrl: string;

  // Before the fixture's own beforeAll: the dispatcher and executor read these when they start.
  beforeAll(async () => {
    const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
    const node = (await core.listNode()).items[0]!;
    const address = node.status!.addresses!.find((a) => a.type === 'InternalIP')!.address;
    feed = await startPackageServer(address);
    feedUrl = `http://${address.includes(':') ? `[${address}]` : address}:${feed.port}`;
    env.KUBE_WORKER_PACKAGE_SOURCES = `${feedUrl}/files/`;
    env.KUBE_WORKER_FETCH_IMAGE = await imageRef('kube-worker');
    feed.files.set('app.tar.gz', await tar([{ name: 'app/', directory: true }, { name: 'app/VERSION', content: '1.4.2\n' }], true));
  }, 600_000);
  afterAll(() => feed?.close());

  const kw = useKubeWorker('packages', env);
  beforeAll(() => kw.addExecutor());

  const podOf = async (ticket: string): Promise<k8s.V1Pod> =>
    eventually('the pod', async () => (await kw.ns.core.listNamespacedPod({ namespace: kw.ns.name, labelSelector: `kube-worker/ticket=${ticket}` })).items[0]);

  it('fetches a package in the init container before the script, which finds it unpacked', async () => {
    const body = feed.files.get('app.tar.gz')!;
    const ticket = await kw.stack.submit(
      bash('cat "$KUBE_WORKER_PACKAGE_APP/app/VERSION"; ls "$KUBE_WORKER_WORKSPACE/packages"', {
        ticket: 'k8s-packages-ok',
        packages: [{ name: 'app', url: `${feedUrl}/files/app.tar.gz`, sha256: sha256(body), headers: { 'X-Api-Key': { value: SECRET_HEADER, sensitive: true } } }],
      }),
    );
    const pod = await podOf(ticket);
    expect(pod.spec!.initContainers!.map((c) => c.name)).toEqual(['fetch']);
    expect(pod.spec!.initContainers![0]!.image).toBe(env.KUBE_WORKER_FETCH_IMAGE);
    expect(JSON.stringify(pod.spec)).not.toContain(SECRET_HEADER);
    const job = await kw.ns.batch.readNamespacedJob({ namespace: kw.ns.name, name: pod.metadata!.labels!['kube-worker/job']! });
    expect(JSON.stringify(job)).not.toContain(SECRET_HEADER);

    const status = await kw.stack.waitUntilDone(ticket, 120_000);
    const lines = status.logs.map((l) => `${l.stream}:${l.text}`);
    expect(status.state, lines.join('\n')).toBe('succeeded');
    expect(lines).toContain('stdout:1.4.2');
    expect(lines).toContain('stdout:app');
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^system:Downloaded package app: .* SHA-256 verified$/)]));
    // The script's lines come after the packages'.
    expect(lines.findIndex((l) => l.startsWith('system:Downloaded package app'))).toBeLessThan(lines.indexOf('stdout:1.4.2'));
    expect(JSON.stringify(status)).not.toContain(SECRET_HEADER);
    expect(feed.requests.some((r) => r.headers['x-api-key'] === SECRET_HEADER)).toBe(true);
  });

  it('ends with PackageFailed, before the script runs, when the checksum does not match', async () => {
    const ticket = await kw.stack.submit(
      bash('echo the script ran', { ticket: 'k8s-packages-bad-sum', packages: [{ name: 'app', url: `${feedUrl}/files/app.tar.gz`, sha256: '0'.repeat(64) }] }),
    );
    const status = await kw.stack.waitUntilDone(ticket, 120_000);
    const lines = status.logs.map((l) => `${l.stream}:${l.text}`);
    expect(status, lines.join('\n')).toMatchObject({ state: 'failed', exitCode: -45, failure: { reason: 'PackageFailed' } });
    expect(lines).not.toContain('stdout:the script ran');
    // The init container's own line says why, whether or not the node passes on its termination message.
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^system:Package app: the SHA-256 of the .* downloaded is [0-9a-f]{64}, not 0{64}/)]));
  });
});
