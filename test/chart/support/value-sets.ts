/** Value combinations the chart tests render: each one a way operators install it. */

/** Redis of the operator's own, by URL (TLS). */
export const EXTERNAL_REDIS = {
  redis: { enabled: false },
  externalRedis: { url: 'rediss://:s3cret@redis.example.com:6380/1' },
};

/** Every option away from its default, and every optional object on. */
export const EVERYTHING = {
  prefix: 'acme',
  logLevel: 'debug',
  retentionSeconds: 7_776_000,
  dashboard: { user: 'operator', write: true },
  dispatcher: {
    port: 9090,
    autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 12 },
    ingress: {
      enabled: true,
      className: 'nginx',
      hosts: [{ host: 'kube-worker.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }],
      tls: [{ secretName: 'kube-worker-tls', hosts: ['kube-worker.example.com'] }],
    },
    nodeSelector: { 'kubernetes.io/os': 'linux' },
  },
  executor: {
    pools: ['default', 'gpu-jobs'],
    concurrency: 12,
    shutdownGraceSeconds: 600,
    defaultTimeoutSeconds: 7200,
    metricsPort: 9100,
    kubernetesApi: { qps: 50, burst: 100 },
    keda: { enabled: true, minReplicas: 1, maxReplicas: 20, waitingPerReplica: 6 },
  },
  scriptPods: {
    worker: { image: { repository: 'registry.example.com/tools/worker', tag: '2.0.1', pullPolicy: 'Always' } },
    resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: 2, memory: '4Gi' } },
    maxResources: { cpu: '8', memory: '32Gi' },
    warm: 3,
    warmMaxAgeSeconds: 600,
    nodeSelector: { 'kubernetes.io/os': 'linux', pool: 'scripts' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'scripts', effect: 'NoSchedule' }],
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['eu-west-1a', 'eu-west-1b'] }] }],
        },
      },
    },
    podSecurityContext: { runAsNonRoot: true, runAsUser: 2000 },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    imagePullSecrets: [{ name: 'registry-a' }, { name: 'registry-b' }],
    labels: { team: 'platform' },
    annotations: { 'example.com/owner': 'deployments' },
    pendingTimeoutSeconds: 120,
    imagePullGraceSeconds: 30,
    jobTtlSeconds: 600,
    proxies: { httpProxy: 'http://proxy.example.com:3128', httpsProxy: 'http://proxy.example.com:3129', noProxy: '.svc,.cluster.local,10.0.0.0/8' },
    serviceAccount: {
      create: true,
      name: 'deployer',
      annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/deployer' },
      roleRules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'patch'] }],
    },
    allowedServiceAccounts: ['deployer', 'reader'],
  },
  redis: { maxmemory: '2gb', persistence: { size: '20Gi', storageClass: 'fast' } },
  serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prometheus' } },
  tracing: { otlpEndpoint: 'http://otel-collector.monitoring:4318', sampler: 'parentbased_traceidratio', samplerRatio: '0.25' },
  grafanaDashboard: { enabled: true, label: 'example.com/dashboard', labelValue: 'yes', annotations: { grafana_folder: 'Deployments' } },
};
