/**
 * Script pods in a namespace that enforces Pod Security "restricted": admitted as kube-worker makes
 * them, and, when a deployment's settings make them inadmissible, failed at once with the API
 * server's reason instead of waiting out the pending timeout.
 */
import { beforeAll, expect, it } from 'vitest';
import { bash } from '../integration/support/stack.js';
import { describeCluster, type TestNamespace } from './support/cluster.js';
import { useKubeWorker } from './support/kube-worker.js';

const enforceRestricted = (ns: TestNamespace) =>
  ns.core.patchNamespace({
    name: ns.name,
    body: [{ op: 'add', path: '/metadata/labels/pod-security.kubernetes.io~1enforce', value: 'restricted' }],
  });

describeCluster('a namespace that enforces Pod Security restricted', () => {
  const kw = useKubeWorker('restricted');

  beforeAll(async () => {
    await enforceRestricted(kw.ns);
    await kw.addExecutor();
  });

  it('admits script pods as kube-worker makes them, running as a non-root user', async () => {
    const ticket = await kw.stack.submit(bash('echo "uid=$(id -u)"'));
    const status = await kw.stack.waitUntilDone(ticket, 90_000);
    expect([status.state, status.failure]).toEqual(['succeeded', undefined]);
    expect(status.logs.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['uid=1000']);
  });
});

describeCluster('a script pod the cluster refuses to admit', () => {
  // Far longer than the test waits: the failure must come from the refusal, not the pending timeout.
  const kw = useKubeWorker('refused', {
    KUBE_WORKER_POD_PENDING_TIMEOUT_SECONDS: '900',
    KUBE_WORKER_SCRIPT_SECURITY_CONTEXT: '{"allowPrivilegeEscalation":true}',
  });

  beforeAll(async () => {
    await enforceRestricted(kw.ns);
    await kw.addExecutor();
  });

  it('fails the operation with RuntimeError and the Pod Security reason, without running it', async () => {
    const ticket = await kw.stack.submit(bash('echo never'));
    const status = await kw.stack.waitUntilDone(ticket, 90_000);
    expect(status.state).toBe('failed');
    expect(status.exitCode).toBe(-42);
    expect(status.failure?.reason).toBe('RuntimeError');
    expect(status.failure?.message).toMatch(/^Kubernetes refused to create the script pod: .*violates PodSecurity "restricted/);
    expect(status.logs.map((l) => l.text)).not.toContain('never');
  });
});
