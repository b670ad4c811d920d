/**
 * The product's image run as users run it with Docker, through testcontainers: Redis, a dispatcher
 * and executors (local runtime, scripts inside the executor's container), each container non-root
 * on a read-only root filesystem with /tmp on a tmpfs, as the chart runs them. Only the local
 * registry's images are used: testcontainers' own helper (Ryuk) is off for this project
 * (vitest.config.ts), so the test removes what it started.
 */
import { randomBytes } from 'node:crypto';
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, bash, type Api } from './support/api.js';
import { describeImages, dockerOk, image } from './support/docker.js';

/**
 * What testcontainers has no option for: a read-only root filesystem, and published ports on
 * loopback only (on a network of its own, Docker publishes on every interface otherwise).
 */
class ReadOnlyContainer extends GenericContainer {
  constructor(ref: string) {
    super(ref);
    this.hostConfig.ReadonlyRootfs = true;
  }

  override withExposedPorts(...ports: Parameters<GenericContainer['withExposedPorts']>): this {
    super.withExposedPorts(...ports);
    for (const bindings of Object.values(this.hostConfig.PortBindings ?? {}) as Array<Array<{ HostIp?: string }>>) {
      for (const binding of bindings) binding.HostIp = '127.0.0.1';
    }
    return this;
  }
}

const token = randomBytes(20).toString('hex');
const full = (mutexName: string) => ({ isolation: { level: 'full', mutexName } });

describeImages('the kube-worker image with Docker (testcontainers)', () => {
  let network: StartedNetwork;
  const started: StartedTestContainer[] = [];
  let client: Api;
  let first: StartedTestContainer;

  const executor = async (hostname: string): Promise<StartedTestContainer> => {
    const container = await new ReadOnlyContainer(image('kube-worker'))
      .withCommand(['executor'])
      .withHostname(hostname)
      .withNetwork(network)
      .withTmpFs({ '/tmp': 'rw,exec,size=64m' })
      .withEnvironment({ REDIS_URL: 'redis://redis:6379', KUBE_WORKER_RUNTIME: 'local', KUBE_WORKER_SHUTDOWN_GRACE_SECONDS: '20' })
      .withExposedPorts(9464)
      .withWaitStrategy(Wait.forHttp('/metrics', 9464))
      .start();
    started.push(container);
    return container;
  };

  beforeAll(async () => {
    network = await new Network().start();
    started.push(
      await new ReadOnlyContainer(image('redis'))
        .withNetwork(network)
        .withNetworkAliases('redis')
        // Owned by Redis's user, as the chart's fsGroup makes its volume.
        .withTmpFs({ '/data': 'rw,size=64m,uid=999' })
        .withCommand(['redis-server', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'])
        .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
        .start(),
    );
    const dispatcher = await new ReadOnlyContainer(image('kube-worker'))
      .withCommand(['dispatcher'])
      .withNetwork(network)
      .withTmpFs({ '/tmp': 'rw,exec,size=64m' })
      .withEnvironment({ REDIS_URL: 'redis://redis:6379', KUBE_WORKER_API_TOKEN: token })
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp('/readyz', 8080))
      .start();
    started.push(dispatcher);
    client = api(`http://127.0.0.1:${dispatcher.getMappedPort(8080)}`, token);
  });

  afterAll(async () => {
    for (const container of started.reverse()) await container.stop({ timeout: 5000 }).catch(() => undefined);
    await network?.stop();
  });

  it('runs each container as a non-root user on a read-only root filesystem, ports on loopback only', async () => {
    first = await executor('executor-first');
    for (const container of started) {
      const [user, readOnly] = dockerOk('inspect', '--format', '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}', container.getId()).split(' ');
      expect(user).toMatch(/^[1-9][0-9]*:[0-9]+$/);
      expect(readOnly).toBe('true');
      for (const binding of Object.values(
        JSON.parse(dockerOk('inspect', '--format', '{{json .NetworkSettings.Ports}}', container.getId())) as Record<string, Array<{ HostIp: string }> | null>,
      )) {
        for (const b of binding ?? []) expect(b.HostIp).toBe('127.0.0.1');
      }
    }
    const write = await first.exec(['sh', '-c', 'id -u; touch /app/x 2>&1 || true']);
    expect(write.output).toMatch(/^1000\n.*Read-only file system/s);
  });

  it('runs an operation submitted over HTTP inside the executor container and reports its output and exit code', async () => {
    const ticket = await client.submit(bash('echo "hello from $(id -u) on $(hostname)"; echo oops >&2; exit 3'));
    const status = await client.waitUntilDone(ticket);
    expect(status.state).toBe('failed');
    expect(status.exitCode).toBe(3);
    expect(status.logs.map((l) => l.text)).toEqual(expect.arrayContaining(['hello from 1000 on executor-first', 'oops']));
  });

  it('on SIGTERM to the executor container, the operation waiting for its mutex is handed back and a second executor finishes it', async () => {
    const stopping = first;
    const holder = await client.submit(bash('echo begin; sleep 3; echo finished on $(hostname)', full('deploy')));
    await client.waitFor(holder, 'running', (s) => s.state === 'running');
    const waiter = await client.submit(bash('echo ran on $(hostname)', full('deploy')));
    await client.waitFor(waiter, 'waiting for its mutex', (s) => s.logs.some((l) => l.text === 'Waiting for exclusive use of mutex "deploy"…'));

    dockerOk('kill', '--signal', 'TERM', stopping.getId());
    // tini passes SIGTERM to the executor, which lets the running script finish within its grace period.
    expect(dockerOk('wait', stopping.getId())).toBe('0');
    const held = await client.status(holder);
    expect(held.state).toBe('succeeded');
    expect(held.logs.map((l) => l.text)).toContain('finished on executor-first');
    expect((await client.status(waiter)).state).toBe('queued');

    await executor('executor-second');
    const handedBack = await client.waitUntilDone(waiter);
    expect(handedBack.state).toBe('succeeded');
    expect(handedBack.logs.map((l) => l.text)).toContain('ran on executor-second');
  });
});
