/**
 * What the simulated nodes are (kwok, Kubernetes WithOut Kubelet): their names, size, taint and
 * labels, and kwok's configuration. Pure: paths in, objects and file contents out. The pod life kwok
 * plays on them is in kwok/stages.yaml; simulated-nodes.ts runs kwok and creates the nodes.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { network } from './node-config.js';

const here = dirname(fileURLToPath(import.meta.url));

export const simulated = {
  /** kwok's kubelet endpoint for every simulated node (logs), on the node bridge beside the real kubelet's 16250. */
  port: 16251,
  namePrefix: 'kw-sim-',
  /** Each simulated node's capacity and allocatable. */
  capacity: { cpu: '32', memory: '128Gi', pods: '110' },
  /** Only pods that tolerate it land there: never the e2e tests' real pods. */
  taint: { key: 'kwok.x-k8s.io/node', value: 'fake', effect: 'NoSchedule' },
  /** Nodes kwok manages carry this annotation; pods choose the nodes by this label. */
  annotation: { 'kwok.x-k8s.io/node': 'fake' },
  label: { type: 'kwok' },
  /** Pod annotations the stages read (kwok/stages.yaml). */
  durationAnnotation: 'kube-worker.test/simulated-duration',
  exitCodeAnnotation: 'kube-worker.test/simulated-exit-code',
  /** Pod IPs kwok writes in the status; nothing routes them. */
  podCIDR: '10.245.0.0/16',
} as const;

/** What a pod needs to run on a simulated node: its nodeSelector and toleration. */
export const simulatedPlacement = {
  nodeSelector: { ...simulated.label },
  tolerations: [{ key: simulated.taint.key, operator: 'Exists', effect: simulated.taint.effect }],
};

export const simulatedNodeName = (index: number): string => `${simulated.namePrefix}${String(index).padStart(3, '0')}`;

/** A simulated Node as kubectl applies it: kwok fills in its conditions, addresses and endpoint. */
export function simulatedNode(index: number): object {
  const name = simulatedNodeName(index);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { ...simulated.annotation, 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        ...simulated.label,
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/role': 'agent',
        'node-role.kubernetes.io/agent': '',
      },
    },
    spec: { taints: [simulated.taint] },
    status: { allocatable: { ...simulated.capacity }, capacity: { ...simulated.capacity } },
  };
}

export interface KwokPaths {
  dir: string;
  config: string;
  log: string;
  tlsCert: string;
  tlsKey: string;
}

export function kwokPaths(stateDir: string, pkiDir: string): KwokPaths {
  const dir = join(stateDir, 'kwok');
  return { dir, config: join(dir, 'kwok.yaml'), log: join(dir, 'container.log'), tlsCert: join(pkiDir, 'kubelet.crt'), tlsKey: join(pkiDir, 'kubelet.key') };
}

/**
 * kwok's --config: its options, the stages, one log for every container (kwok's log simulation),
 * and an empty Metric, whose presence turns on kwok's pod cache, which the log follow of
 * kwok/debugging_logs.go reads to end when the container has ended.
 */
export function kwokConfig(p: KwokPaths): string {
  const options = {
    apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
    kind: 'KwokConfiguration',
    options: {
      manageNodesWithAnnotationSelector: Object.entries(simulated.annotation)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      nodeIP: network.nodeIP,
      nodePort: simulated.port,
      serverAddress: `${network.nodeIP}:${simulated.port}`,
      tlsCertFile: p.tlsCert,
      tlsPrivateKeyFile: p.tlsKey,
      cidr: simulated.podCIDR,
      nodeLeaseDurationSeconds: 40,
      enableCRDs: [],
      // kwok's own defaults, which it does not apply to a configuration given whole in --config.
      manageAllNodes: false,
      enableDebuggingHandlers: true, // the logs
      enableProfilingHandler: false,
      enableContentionProfiling: false,
      // Each of a hundred real nodes plays its own pods; four workers for all of them made kwok
      // the bottleneck of bench:scale (a pod made → running 2.3 s where the scheduler took 0.2 s).
      podPlayStageParallelism: 32,
      nodePlayStageParallelism: 4,
      nodeLeaseParallelism: 4,
      podsOnNodeSyncParallelism: 1,
      enablePodsOnNodeSyncListPager: true,
      enablePodsOnNodeSyncStreamWatch: false,
    },
  };
  const logs = {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterLogs',
    metadata: { name: 'every-container' },
    spec: { selector: {}, logs: [{ logsFile: p.log }] },
  };
  const cache = {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Metric',
    metadata: { name: 'pod-cache' },
    spec: { path: '/metrics/nodes/{nodeName}/kube-worker-none', metrics: [] },
  };
  // JSON is YAML: one document each, then the stages file as it is.
  return [options, logs, cache].map((d) => JSON.stringify(d, null, 2)).join('\n---\n') + '\n---\n' + readFileSync(join(here, 'kwok', 'stages.yaml'), 'utf8');
}

/** The log every simulated container shows, in the CRI log format kwok reads ("<time> stdout F <text>"). */
export function simulatedContainerLog(at = new Date()): string {
  return `${at.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z')} stdout F simulated: this container ran on a kwok node, no process ran\n`;
}
