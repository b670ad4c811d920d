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
import { spawnExecutor } from '../integration/support/child-executor.js';
import { bash } from '../integration/support/stack.js';
import { sha256, tar } from '../support/archives.js';
import { generatedSha256, startPackageServer, type PackageServer } from '../support/package-server.js';
import { adminKubeConfig, describeCluster, eventually } from './support/cluster.js';
import { useKubeWorker } from './support/kube-worker.js';

/**
 * A package feed on the node's address, where its pods reach it, allowed in `env` for `route`,
 * with kube-worker's own image to fetch from it. Called before useKubeWorker: the dispatcher and
 * executor read `env` when they start.
 */
function useNodeFeed(env: Record<string, string>, route: string): { readonly feed: PackageServer; readonly url: string } {
  const served = {} as { feed: PackageServer; url: string };
  beforeAll(async () => {
    const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
    const node = (await core.listNode()).items.find((n) => !n.metadata?.annotations?.['kwok.x-k8s.io/node'])!; // not a simulated one
    const address = node.status!.addresses!.find((a) => a.type === 'InternalIP')!.address;
    served.feed = await startPackageServer(address);
    served.url = `http://${address.includes(':') ? `[${address}]` : address}:${served.feed.port}`;
    env.KUBE_WORKER_PACKAGE_SOURCES = `${served.url}/${route}/`;
    env.KUBE_WORKER_FETCH_IMAGE = await imageRef('kube-worker');
  }, 600_000);
  afterAll(() => served.feed?.close());
  return served;
}

describeCluster('packages on Kubernetes', () => {
  const SECRET_HEADER = 'e2e-feed-key-never-shown';
  const env: Record<string, string> = {};
  const served = useNodeFeed(env, 'files');
  beforeAll(async () => {
    served.feed.files.set(
      'app.tar.gz',
      await tar(
        [
          { name: 'app/', directory: true },
          { name: 'app/VERSION', content: '1.4.2\n' },
        ],
        true,
      ),
    );
  });

  const kw = useKubeWorker('packages', env);
  beforeAll(() => kw.addExecutor());

  const podOf = async (ticket: string): Promise<k8s.V1Pod> =>
    eventually('the pod', async () => (await kw.ns.core.listNamespacedPod({ namespace: kw.ns.name, labelSelector: `kube-worker/ticket=${ticket}` })).items[0]);

  it('fetches a package in the init container before the script, which finds it unpacked', async () => {
    const body = served.feed.files.get('app.tar.gz')!;
    const ticket = await kw.stack.submit(
      bash('cat "$KUBE_WORKER_PACKAGE_APP/app/VERSION"; ls "$KUBE_WORKER_WORKSPACE/packages"', {
        ticket: 'k8s-packages-ok',
        packages: [
          { name: 'app', url: `${served.url}/files/app.tar.gz`, sha256: sha256(body), headers: { 'X-Api-Key': { value: SECRET_HEADER, sensitive: true } } },
        ],
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
    expect(served.feed.requests.some((r) => r.headers['x-api-key'] === SECRET_HEADER)).toBe(true);
  });

  it('ends with PackageFailed, before the script runs, when the checksum does not match', async () => {
    const ticket = await kw.stack.submit(
      bash('echo the script ran', {
        ticket: 'k8s-packages-bad-sum',
        packages: [{ name: 'app', url: `${served.url}/files/app.tar.gz`, sha256: '0'.repeat(64) }],
      }),
    );
    const status = await kw.stack.waitUntilDone(ticket, 120_000);
    const lines = status.logs.map((l) => `${l.stream}:${l.text}`);
    expect(status, lines.join('\n')).toMatchObject({ state: 'failed', exitCode: -45, failure: { reason: 'PackageFailed' } });
    expect(lines).not.toContain('stdout:the script ran');
    // The init container's own line says why, whether or not the node passes on its termination message.
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^system:Package app: the SHA-256 of the .* downloaded is [0-9a-f]{64}, not 0{64}/)]));
  });
});

describeCluster('packages on Kubernetes, the executor killed while they download', () => {
  /** Short, so that the operation of the killed executor is delivered again within the test. */
  const env: Record<string, string> = { KUBE_WORKER_LOCK_DURATION_MS: '3000' };
  const served = useNodeFeed(env, 'slow');

  const kw = useKubeWorker('packages-adopt', env);

  it('the executor that adopts the run stores the rest of the package lines, none twice', async () => {
    // 64 KiB every 50 ms: about 6.5 s, longer than the init container's 5 s progress interval.
    const bytes = 8 * 1024 * 1024;
    const doomed = await spawnExecutor(kw.stack, kw.env());
    const ticket = await kw.stack.submit(
      bash('echo the script ran', {
        ticket: 'k8s-packages-adopt',
        packages: [{ name: 'blob', url: `${served.url}/slow/${bytes}`, sha256: generatedSha256(bytes), extract: 'none' }],
      }),
    );
    const stored = async (): Promise<string[]> => {
      const { body } = await kw.stack.api('GET', `/api/v1/operations/${ticket}`);
      return (body.logs ?? []).map((l: { text: string }) => l.text);
    };
    await eventually('the download under way', async () => (await stored()).some((t) => t.startsWith('Downloading package blob from')), 90_000, 100);
    doomed.process.kill('SIGKILL');
    await doomed.exited;
    // Otherwise the test would prove nothing: the first executor stored only the beginning.
    expect((await stored()).filter((t) => t.startsWith('Downloaded package blob'))).toEqual([]);
    await kw.addExecutor();

    const status = await kw.stack.waitUntilDone(ticket, 120_000);
    const lines = status.logs.map((l) => `${l.stream}:${l.text}`);
    expect(status.state, lines.join('\n')).toBe('succeeded');
    const packageLines = lines.filter((l) => l.startsWith('system:Download'));
    expect(
      packageLines.filter((l) => l.startsWith('system:Downloading package blob from')),
      lines.join('\n'),
    ).toHaveLength(1);
    expect(
      packageLines.filter((l) => l.startsWith('system:Downloaded package blob: 8.0 MiB')),
      lines.join('\n'),
    ).toHaveLength(1);
    expect(new Set(packageLines).size, lines.join('\n')).toBe(packageLines.length);
    expect(lines.indexOf('stdout:the script ran')).toBeGreaterThan(lines.findIndex((l) => l.startsWith('system:Downloaded package blob')));
  });
});
