/**
 * The chart, rendered by the real helm for each value combination that matters, read back as
 * objects: the executor's config it produces, its RBAC, its secrets and its optional parts.
 */
import { expect, it } from 'vitest';
import { readConfig } from '../../core/config.js';
import { EXECUTOR_RULES, executorRules } from '../../executor/kubernetes/permissions.js';
import { CHART, containerOf, describeHelm, find, helm, kinds, NAMESPACE, render, valuesFile, type KubeObject } from './support/helm.js';
import { containerEnv, expandedNames, renderedSecrets } from './support/pod-env.js';
import { SETTING_NAMES } from './support/product.js';
import { EVERYTHING, EXTERNAL_REDIS } from './support/value-sets.js';

const NAME = 'kw-kube-worker';
const executorOf = (objects: KubeObject[]) => containerOf(find(objects, 'Deployment', `${NAME}-executor`));
const dispatcherOf = (objects: KubeObject[]) => containerOf(find(objects, 'Deployment', `${NAME}-dispatcher`));
const podSpecs = (objects: KubeObject[]) => objects.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind)).map((o) => o.spec.template.spec);

describeHelm('the Helm chart', () => {
  it('passes helm lint --strict with the defaults and with every option on', async () => {
    for (const values of [{}, EVERYTHING]) {
      const lint = await helm(['lint', '--strict', CHART, '-f', valuesFile(values)]);
      expect(lint.stdout + lint.stderr, JSON.stringify(values)).toContain('0 chart(s) failed');
      expect(lint.code).toBe(0);
    }
  });

  it('refuses a cluster older than its kubeVersion', async () => {
    const tooOld = await helm(['template', 'kw', CHART, '--kube-version', 'v1.22.0']);
    expect(tooOld.stderr).toMatch(/chart requires kubeVersion: >=1.23.0-0 which is incompatible with Kubernetes v1.22.0/);
  });

  it('renders dispatcher, executor, Redis and their Secrets by default, and nothing optional', async () => {
    const objects = await render();
    expect(kinds(objects).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'Deployment',
      'PodDisruptionBudget',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Secret',
      'Secret',
      'Secret',
      'Service',
      'Service',
      'Service',
      'ServiceAccount',
      'ServiceAccount',
      'StatefulSet',
    ]);
    for (const object of objects) expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe(NAMESPACE);
  });

  it('adds exactly WARM_POD_RULES to the Role with warm pods', async () => {
    const objects = await render({ scriptPods: { warm: 2 } });
    expect(find(objects, 'Role', `${NAME}-executor`).rules).toEqual(executorRules(2));
  });

  it('gives the executor exactly the Role of EXECUTOR_RULES, bound to its own ServiceAccount', async () => {
    const objects = await render();
    expect(find(objects, 'Role', `${NAME}-executor`).rules).toEqual(EXECUTOR_RULES);
    const binding = find(objects, 'RoleBinding', `${NAME}-executor`);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${NAME}-executor` });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: `${NAME}-executor`, namespace: NAMESPACE }]);
    expect(find(objects, 'Deployment', `${NAME}-executor`).spec.template.spec.serviceAccountName).toBe(`${NAME}-executor`);
  });

  it('scopes the executor to its release: the instance is the release name, whatever the prefix, unless set', async () => {
    const instanceOf = (objects: KubeObject[]): string => readConfig(containerEnv(objects, executorOf(objects))).instance;
    expect(instanceOf(await render())).toBe('kw');
    expect(instanceOf(await render({ prefix: 'acme' }))).toBe('kw');
    expect(instanceOf(await render({ instance: 'blue' }))).toBe('blue');
  });

  it('runs scripts as a non-root user and group the values choose', async () => {
    const configOf = (objects: KubeObject[]) => readConfig(containerEnv(objects, executorOf(objects)));
    expect(configOf(await render())).toMatchObject({ scriptRunAsUser: 1000, scriptRunAsGroup: 1000 });
    expect(configOf(await render({ scriptPods: { runAsUser: 65532, runAsGroup: 65533 } }))).toMatchObject({ scriptRunAsUser: 65532, scriptRunAsGroup: 65533 });
  });

  it('renders no ClusterRole or ClusterRoleBinding, whatever the values', async () => {
    for (const values of [{}, EXTERNAL_REDIS, EVERYTHING]) {
      const clusterScoped = (await render(values)).filter((o) => /^Cluster/.test(o.kind));
      expect(clusterScoped).toEqual([]);
    }
  });

  it('sets only real settings in every container: each env var is in SETTINGS, or expanded into one', async () => {
    for (const values of [{}, EXTERNAL_REDIS, EVERYTHING]) {
      const objects = await render(values);
      for (const container of [executorOf(objects), dispatcherOf(objects)]) {
        const helpers = expandedNames(container);
        const unknown = (container.env as { name: string }[]).map((v) => v.name).filter((name) => !SETTING_NAMES.has(name) && !helpers.has(name));
        expect(unknown, container.name).toEqual([]);
      }
    }
  });

  it('starts the executor with a valid configuration by default: kubernetes runtime, its namespace, the bundled Redis', async () => {
    const objects = await render();
    const password = renderedSecrets(objects)[`${NAME}-redis`]!['redis-password']!;
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    const config = readConfig(containerEnv(objects, executorOf(objects)));
    expect(config).toMatchObject({
      runtime: 'kubernetes',
      namespace: NAMESPACE,
      redisUrl: `redis://:${password}@${NAME}-redis:6379/0`,
      pools: ['default'],
      concurrency: 4,
      scriptImage: 'docker.io/octopusdeploy/worker-tools:6.5.0-ubuntu.22.04',
      scriptServiceAccount: `${NAME}-script`,
      scriptAutomountToken: false,
    });
    // The password reaches the pod through the Secret only, never through the pod spec.
    expect(JSON.stringify(find(objects, 'Deployment', `${NAME}-executor`))).not.toContain(password);
  });

  it('starts the dispatcher with the generated API token and dashboard credentials', async () => {
    const objects = await render();
    const secrets = renderedSecrets(objects);
    const config = readConfig(containerEnv(objects, dispatcherOf(objects)));
    expect(config.apiTokens).toEqual([secrets[`${NAME}-api-token`]!['api-token']]);
    expect(config.apiTokens[0]).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(config).toMatchObject({ port: 8080, dashboardUser: 'admin', dashboardPassword: secrets[`${NAME}-dashboard`]!.password, dashboardWrite: false });
    expect(config.dashboardPassword).toHaveLength(24);
  });

  it('passes non-default values through to the executor and dispatcher configuration', async () => {
    const objects = await render(EVERYTHING);
    const executor = readConfig(containerEnv(objects, executorOf(objects)));
    expect(executor).toMatchObject({
      pools: ['default', 'gpu-jobs'],
      concurrency: 12,
      prefix: 'acme',
      logLevel: 'debug',
      retentionSeconds: 7_776_000,
      shutdownGraceSeconds: 600,
      defaultTimeoutSeconds: 7200,
      metricsPort: 9100,
      k8sQps: 50,
      k8sBurst: 100,
      scriptImage: 'registry.example.com/tools/worker:2.0.1',
      scriptPullPolicy: 'Always',
      scriptRequestsCpu: '500m',
      scriptRequestsMemory: '1Gi',
      scriptLimitsCpu: '2',
      scriptLimitsMemory: '4Gi',
      scriptMaxCpu: '8',
      scriptMaxMemory: '32Gi',
      warmPods: 3,
      warmPodMaxAgeSeconds: 600,
      scriptNodeSelector: { 'kubernetes.io/os': 'linux', pool: 'scripts' },
      scriptTolerations: [{ key: 'dedicated', operator: 'Equal', value: 'scripts', effect: 'NoSchedule' }],
      scriptAffinity: EVERYTHING.scriptPods.affinity,
      scriptPodSecurityContext: { runAsNonRoot: true, runAsUser: 2000 },
      scriptSecurityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      scriptImagePullSecrets: ['registry-a', 'registry-b'],
      scriptLabels: { team: 'platform' },
      scriptAnnotations: { 'example.com/owner': 'deployments' },
      scriptServiceAccount: 'deployer',
      scriptAllowedServiceAccounts: ['deployer', 'reader'],
      scriptAutomountToken: true,
      scriptHttpProxy: 'http://proxy.example.com:3128',
      scriptHttpsProxy: 'http://proxy.example.com:3129',
      scriptNoProxy: '.svc,.cluster.local,10.0.0.0/8',
      podPendingTimeoutSeconds: 120,
      imagePullGraceSeconds: 30,
      jobTtlSeconds: 600,
    });
    const dispatcher = readConfig(containerEnv(objects, dispatcherOf(objects)));
    expect(dispatcher).toMatchObject({
      port: 9090,
      pools: ['default', 'gpu-jobs'],
      prefix: 'acme',
      scriptMaxCpu: '8',
      scriptMaxMemory: '32Gi',
      scriptLimitsCpu: '2',
      scriptLimitsMemory: '4Gi',
      scriptAllowedServiceAccounts: ['deployer', 'reader'],
      dashboardWrite: true,
    });
    // Long enough to let operations finish for shutdownGraceSeconds, then hand the rest back.
    expect(find(objects, 'Deployment', `${NAME}-executor`).spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(600);
  });

  it('gives scripts the roleRules as a Role of their own, and no token when there are none', async () => {
    const objects = await render(EVERYTHING);
    expect(find(objects, 'Role', `${NAME}-script`).rules).toEqual(EVERYTHING.scriptPods.serviceAccount.roleRules);
    expect(find(objects, 'RoleBinding', `${NAME}-script`).subjects).toEqual([{ kind: 'ServiceAccount', name: 'deployer', namespace: NAMESPACE }]);
    const defaults = await render();
    expect(defaults.filter((o) => o.kind === 'Role').map((o) => o.metadata.name)).toEqual([`${NAME}-executor`]);
    expect(find(defaults, 'ServiceAccount', `${NAME}-script`).metadata.labels['app.kubernetes.io/component']).toBe('script');
  });

  it('uses an external Redis by URL, without a StatefulSet or a Redis password', async () => {
    const objects = await render(EXTERNAL_REDIS);
    expect(kinds(objects)).not.toContain('StatefulSet');
    expect(objects.some((o) => o.metadata.name === `${NAME}-redis`)).toBe(false);
    for (const container of [executorOf(objects), dispatcherOf(objects)]) {
      expect(readConfig(containerEnv(objects, container)).redisUrl).toBe(EXTERNAL_REDIS.externalRedis.url);
    }
  });

  it('uses existing Secrets for the API token, the dashboard and the external Redis, and generates none', async () => {
    const values = {
      apiToken: { existingSecret: 'my-tokens', existingSecretKey: 'tokens' },
      dashboard: { existingSecret: 'my-dashboard' },
      redis: { enabled: false },
      externalRedis: { existingSecret: 'my-redis', existingSecretKey: 'url' },
    };
    const objects = await render(values);
    expect(kinds(objects)).not.toContain('Secret');
    const existing = {
      'my-tokens': { tokens: 'first-token-0123456789,second-token-0123456789' },
      'my-dashboard': { user: 'ops', password: 'correct horse battery' },
      'my-redis': { url: 'rediss://:pw@redis.internal:6380/2' },
    };
    const config = readConfig(containerEnv(objects, dispatcherOf(objects), existing));
    expect(config).toMatchObject({
      apiTokens: ['first-token-0123456789', 'second-token-0123456789'],
      dashboardUser: 'ops',
      redisUrl: 'rediss://:pw@redis.internal:6380/2',
    });
  });

  it("passes a Sentinel URL through, by value or by Secret, with the Sentinels' own password from a Secret", async () => {
    const url = 'redis+sentinel://:data-pw@sentinel-0.redis:26379,sentinel-1.redis:26379,sentinel-2.redis:26379/mymaster/2';
    const objects = await render({ redis: { enabled: false }, externalRedis: { url, sentinelPassword: 'sentinel-pw' } });
    for (const container of [executorOf(objects), dispatcherOf(objects)]) {
      expect(readConfig(containerEnv(objects, container))).toMatchObject({ redisUrl: url, redisSentinelPassword: 'sentinel-pw' });
    }
    const bySecret = await render({
      redis: { enabled: false },
      externalRedis: { existingSecret: 'my-redis', existingSecretKey: 'url', sentinelPasswordSecret: 'my-sentinels', sentinelPasswordSecretKey: 'pw' },
    });
    expect(bySecret.filter((o) => o.kind === 'Secret' && o.metadata.name.includes('redis'))).toEqual([]);
    const existing = { 'my-redis': { url }, 'my-sentinels': { pw: 'sentinel-pw' } };
    expect(readConfig(containerEnv(bySecret, dispatcherOf(bySecret), existing))).toMatchObject({ redisUrl: url, redisSentinelPassword: 'sentinel-pw' });
  });

  it('has KEDA follow the same Sentinels: a redis-sentinel trigger on the master of the URL, or of the values when the URL is in a Secret', async () => {
    const url = 'redis+sentinel://:data-pw@sentinel-0.redis:26379,sentinel-1.redis:26379/mymaster/2';
    const keda = { enabled: true, authenticationRef: 'redis-auth' };
    const objects = await render({ redis: { enabled: false }, externalRedis: { url, sentinelPassword: 'sentinel-pw' }, executor: { keda } });
    const [trigger] = find(objects, 'ScaledObject', `${NAME}-executor`).spec.triggers;
    expect(trigger).toEqual({
      type: 'redis-sentinel',
      name: 'wait_0',
      metadata: {
        addresses: 'sentinel-0.redis:26379,sentinel-1.redis:26379',
        sentinelMaster: 'mymaster',
        databaseIndex: '2',
        sentinelPasswordFromEnv: 'KUBE_WORKER_REDIS_SENTINEL_PASSWORD',
        listName: '{kw:default}:default:wait',
        listLength: '4',
      },
      authenticationRef: { name: 'redis-auth' },
    });
    expect(executorOf(objects).env.map((v: { name: string }) => v.name)).toContain('KUBE_WORKER_REDIS_SENTINEL_PASSWORD');
    const bySecret = await render({
      redis: { enabled: false },
      externalRedis: { existingSecret: 'my-redis' },
      executor: { keda: { ...keda, sentinelAddresses: 's-0:26379,s-1:26379', sentinelMaster: 'other' } },
    });
    expect(find(bySecret, 'ScaledObject', `${NAME}-executor`).spec.triggers[0].metadata).toMatchObject({
      addresses: 's-0:26379,s-1:26379',
      sentinelMaster: 'other',
    });
    await expect(
      render({
        redis: { enabled: false },
        externalRedis: { existingSecret: 'my-redis' },
        executor: { keda: { enabled: true, sentinelAddresses: 's-0:26379' } },
      }),
    ).rejects.toThrow(/executor.keda.sentinelMaster is required/);
  });

  it('has KEDA follow the same Redis Cluster: a redis-cluster trigger on the nodes of the URL, or of the values when the URL is in a Secret', async () => {
    const url = 'redis+cluster://:data-pw@node-0.redis:6379,node-1.redis:6379,node-2.redis:6379';
    const keda = { enabled: true, authenticationRef: 'redis-auth' };
    const objects = await render({ redis: { enabled: false }, externalRedis: { url }, executor: { keda } });
    expect(readConfig(containerEnv(objects, dispatcherOf(objects)))).toMatchObject({ redisUrl: url });
    const [trigger] = find(objects, 'ScaledObject', `${NAME}-executor`).spec.triggers;
    expect(trigger).toEqual({
      type: 'redis-cluster',
      name: 'wait_0',
      metadata: { addresses: 'node-0.redis:6379,node-1.redis:6379,node-2.redis:6379', listName: '{kw:default}:default:wait', listLength: '4' },
      authenticationRef: { name: 'redis-auth' },
    });
    const bySecret = await render({
      redis: { enabled: false },
      externalRedis: { existingSecret: 'my-redis' },
      executor: { keda: { ...keda, clusterAddresses: 'n-0:6379,n-1:6379' } },
    });
    expect(find(bySecret, 'ScaledObject', `${NAME}-executor`).spec.triggers[0]).toMatchObject({
      type: 'redis-cluster',
      metadata: { addresses: 'n-0:6379,n-1:6379' },
    });
  });

  it('refuses to render without any Redis, saying what to set', async () => {
    await expect(render({ redis: { enabled: false } })).rejects.toThrow(/set externalRedis.url or externalRedis.existingSecret/);
  });

  it('runs the bundled Redis with AOF, noeviction, a PVC and the password from its Secret', async () => {
    const objects = await render({ redis: { maxmemory: '2gb', persistence: { size: '20Gi', storageClass: 'fast' } } });
    const conf = find(objects, 'ConfigMap', `${NAME}-redis`).data['redis.conf'] as string;
    expect(conf.split('\n')).toEqual(expect.arrayContaining(['appendonly yes', 'maxmemory-policy noeviction', 'maxmemory 2gb', 'dir /data']));
    const redis = find(objects, 'StatefulSet', `${NAME}-redis`);
    expect(redis.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'fast', resources: { requests: { storage: '20Gi' } } });
    const container = containerOf(redis);
    expect(container.command).toEqual(['redis-server', '/etc/redis/redis.conf', '--requirepass', '$(REDIS_PASSWORD)']);
    expect(containerEnv(objects, container).REDIS_PASSWORD).toBe(renderedSecrets(objects)[`${NAME}-redis`]!['redis-password']);
  });

  it.each<[string, Record<string, unknown>, string | undefined]>([
    ['three quarters of the default 1Gi limit', {}, 'maxmemory 805306368'],
    ['three quarters of a limit given in Mi', { resources: { limits: { memory: '512Mi' } } }, 'maxmemory 402653184'],
    ['three quarters of a limit given in G', { resources: { limits: { memory: '2G' } } }, 'maxmemory 1500000000'],
    ['the maxmemory given, whatever the limit', { maxmemory: '300mb' }, 'maxmemory 300mb'],
    ['none without a memory limit', { resources: { limits: null } }, undefined],
  ])('gives the bundled Redis a maxmemory that fits its container: %s', async (_case, redis, expected) => {
    const objects = await render({ redis });
    const lines = (find(objects, 'ConfigMap', `${NAME}-redis`).data['redis.conf'] as string).split('\n');
    expect(lines.filter((line) => line.startsWith('maxmemory '))).toEqual(expected ? [expected] : []);
    expect(lines).toContain('maxmemory-policy noeviction');
  });

  it('refuses a Redis memory limit it cannot turn into a maxmemory, saying what to set', async () => {
    await expect(render({ redis: { resources: { limits: { memory: '1.5Gi' } } } })).rejects.toThrow(/set redis.maxmemory/);
  });

  it('runs every pod as non-root, with a read-only root filesystem and no privilege escalation', async () => {
    for (const values of [{}, EVERYTHING]) {
      for (const pod of podSpecs(await render(values))) {
        expect(pod.securityContext.runAsNonRoot).toBe(true);
        for (const container of pod.containers) {
          expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        }
      }
    }
  });

  it('probes the dispatcher on /healthz and /readyz', async () => {
    const dispatcher = dispatcherOf(await render());
    expect(dispatcher.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(dispatcher.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
  });

  it('probes the executor on its metrics port, and not at all when that port is 0', async () => {
    const executor = executorOf(await render());
    expect(executor.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'metrics' });
    expect(executor.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    const without = executorOf(await render({ executor: { metricsPort: 0 } }));
    expect([without.livenessProbe, without.readinessProbe, without.ports]).toEqual([undefined, undefined, undefined]);
  });

  it('renders the optional HPA, Ingress, ServiceMonitor and KEDA ScaledObject when asked, leaving replicas to them', async () => {
    const objects = await render(EVERYTHING);
    expect(find(objects, 'Deployment', `${NAME}-dispatcher`).spec.replicas).toBeUndefined();
    expect(find(objects, 'Deployment', `${NAME}-executor`).spec.replicas).toBeUndefined();
    expect(find(objects, 'HorizontalPodAutoscaler', `${NAME}-dispatcher`).spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
    expect(find(objects, 'Ingress', NAME).spec.rules[0]).toMatchObject({ host: 'kube-worker.example.com' });
    const monitor = find(objects, 'ServiceMonitor', NAME);
    expect(monitor.spec.endpoints.map((e: { port: string }) => e.port)).toEqual(['http', 'metrics']);
    const scaled = find(objects, 'ScaledObject', `${NAME}-executor`);
    expect(scaled.spec.scaleTargetRef).toEqual({ name: `${NAME}-executor` });
    // Two triggers per pool, on the BullMQ lists of its waiting and its running operations: an
    // executor per `waitingPerReplica` waiting ones, and one per `concurrency` running ones.
    const lists = Object.fromEntries(scaled.spec.triggers.map((t: any) => [t.metadata.listName, t.metadata.listLength]));
    expect(lists).toEqual({
      '{acme:default}:default:wait': '6',
      '{acme:default}:default:active': String(EVERYTHING.executor.concurrency),
      '{acme:gpu-jobs}:gpu-jobs:wait': '6',
      '{acme:gpu-jobs}:gpu-jobs:active': String(EVERYTHING.executor.concurrency),
    });
    for (const trigger of scaled.spec.triggers)
      expect(trigger.metadata).toMatchObject({ address: `${NAME}-redis.${NAMESPACE}.svc:6379`, passwordFromEnv: 'REDIS_PASSWORD' });
    // The two add up, for the pool that needs most: KEDA's own rule, the largest count of any one
    // trigger, would leave operations waiting while executors take others as they come.
    const c = EVERYTHING.executor.concurrency;
    expect(scaled.spec.triggers.map((t: any) => t.name)).toEqual(['wait_0', 'active_0', 'wait_1', 'active_1']);
    expect(scaled.spec.advanced.scalingModifiers).toEqual({
      formula: `max(wait_0 / 6 + active_0 / ${c}, wait_1 / 6 + active_1 / ${c})`,
      target: '1',
      metricType: 'AverageValue',
    });
    // The executor container has the REDIS_PASSWORD that passwordFromEnv names.
    expect(executorOf(objects).env.map((v: { name: string }) => v.name)).toContain('REDIS_PASSWORD');
  });

  it('has dispatcher and executor listen on every interface of their pod, whatever the image says', async () => {
    const objects = await render({});
    for (const container of [dispatcherOf(objects), executorOf(objects)])
      expect(readConfig(containerEnv(objects, container)).host, container.name).toBe('0.0.0.0');
  });

  it('allows the package sources it is given to dispatcher and executor, and fetches them with its own image', async () => {
    const none = await render({});
    for (const container of [dispatcherOf(none), executorOf(none)]) expect(readConfig(containerEnv(none, container)).packageSources).toEqual([]);
    const objects = await render({
      image: { repository: 'registry.example.com/kube-worker', tag: '0.2.0' },
      packages: { sources: ['https://feed.example.com/packages/'], maxBytes: 1073741824 },
    });
    for (const container of [dispatcherOf(objects), executorOf(objects)]) {
      const config = readConfig(containerEnv(objects, container));
      expect(config.packageSources.map((source) => source.text)).toEqual(['https://feed.example.com/packages/']);
      expect(config.packageMaxBytes).toBe(1073741824);
    }
    expect(readConfig(containerEnv(objects, executorOf(objects))).fetchImage).toBe('registry.example.com/kube-worker:0.2.0');
  });

  it("has KEDA add up one pool's waiting and running executors, with no max() for a single pool", async () => {
    const objects = await render({ executor: { concurrency: 2, keda: { enabled: true, waitingPerReplica: 3 } } });
    const scaled = find(objects, 'ScaledObject', `${NAME}-executor`);
    expect(scaled.spec.triggers.map((t: any) => [t.name, t.metadata.listName])).toEqual([
      ['wait_0', '{kw:default}:default:wait'],
      ['active_0', '{kw:default}:default:active'],
    ]);
    expect(scaled.spec.advanced.scalingModifiers).toEqual({ formula: 'wait_0 / 3 + active_0 / 2', target: '1', metricType: 'AverageValue' });
  });

  it('asks for the Redis address KEDA should use when Redis is external', async () => {
    await expect(render({ ...EXTERNAL_REDIS, executor: { keda: { enabled: true } } })).rejects.toThrow(/executor.keda.redisAddress is required/);
  });
});
