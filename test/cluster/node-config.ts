/**
 * The configuration files of the test cluster's node: a private containerd (its own root, state,
 * socket), the pod network for the CNI plugins, the kubelet and kube-proxy. Pure: paths and
 * addresses in, file contents out (`writeNodeConfigs` writes them).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Addresses of the node. Everything stays on this machine. */
export const network = {
  /** The node's address, on a bridge of its own: the kubelet refuses a loopback one. */
  nodeIP: '10.250.0.1',
  nodeBridge: 'kw-node',
  nodePrefix: 24,
  /** Pods: one bridge, addresses from host-local. */
  podBridge: 'kw-pods',
  podCIDR: '10.244.0.0/24',
  serviceCIDR: '10.0.0.0/24',
  /** The cluster DNS Service (CoreDNS). */
  dnsIP: '10.0.0.10',
  clusterDomain: 'cluster.local',
} as const;

export interface NodePaths {
  /** Everything of the node lives below this folder. */
  dir: string;
  containerdConfig: string;
  containerdSocket: string;
  containerdRoot: string;
  containerdState: string;
  registryHosts: string;
  cniConfDir: string;
  cniIpamDir: string;
  kubeletConfig: string;
  kubeletRoot: string;
  podLogs: string;
  proxyConfig: string;
}

export function nodePaths(stateDir: string): NodePaths {
  const dir = join(stateDir, 'node');
  return {
    dir,
    containerdConfig: join(dir, 'containerd.toml'),
    containerdSocket: join(dir, 'containerd.sock'),
    // Images stay between starts (no pull twice); containers and pods do not.
    containerdRoot: join(stateDir, 'containerd'),
    containerdState: join(dir, 'containerd-state'),
    registryHosts: join(dir, 'certs.d'),
    cniConfDir: join(dir, 'cni'),
    cniIpamDir: join(dir, 'ipam'),
    kubeletConfig: join(dir, 'kubelet.json'),
    kubeletRoot: join(dir, 'kubelet'),
    podLogs: join(dir, 'pod-logs'),
    proxyConfig: join(dir, 'kube-proxy.json'),
  };
}

export interface NodeOptions {
  pkiDir: string;
  kubeletPort: number;
  /** 127.0.0.1 ports of kube-proxy's and the kubelet's health and metrics endpoints. */
  kubeletHealthzPort: number;
  proxyHealthzPort: number;
  proxyMetricsPort: number;
  sandboxImage: string;
  /** Registry hosts (host:port) spoken to in plain HTTP. */
  plainHttpRegistries: string[];
  /** Memory the kubelet keeps for the system, so that pods get a finite allocatable memory. */
  systemReservedMemory: string;
}

export function containerdConfig(p: NodePaths, o: NodeOptions): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = ${JSON.stringify(p.containerdRoot)}
state = ${JSON.stringify(p.containerdState)}
# Plugins that would write outside root and state, or that this machine cannot use.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = ${JSON.stringify(p.containerdSocket)}

[ttrpc]
  address = ${JSON.stringify(`${p.containerdSocket}.ttrpc`)}

[${cri}]
  sandbox_image = ${JSON.stringify(o.sandboxImage)}
  # This machine forbids lowering oom_score_adj; without this every sandbox fails to start
  # ("can't get final child's PID from pipe").
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
  [${cri}.cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ${JSON.stringify(p.cniConfDir)}
  [${cri}.registry]
    config_path = ${JSON.stringify(p.registryHosts)}
`;
}

/** certs.d/HOST/hosts.toml for each plain-HTTP registry. */
export function registryHosts(o: NodeOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of o.plainHttpRegistries) {
    out[h] = `server = "http://${h}"\n\n[host."http://${h}"]\n  capabilities = ["pull", "resolve"]\n`;
  }
  return out;
}

export function cniConfig(p: NodePaths): object {
  return {
    cniVersion: '1.0.0',
    name: 'kw-pods',
    plugins: [
      {
        type: 'bridge',
        bridge: network.podBridge,
        isGateway: true,
        // Pods talk only to each other, to Services and to the node: nothing to masquerade.
        ipMasq: false,
        // A pod reaches itself through its own Service.
        hairpinMode: true,
        ipam: { type: 'host-local', dataDir: p.cniIpamDir, ranges: [[{ subnet: network.podCIDR }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'loopback' },
    ],
  };
}

export function kubeletConfig(p: NodePaths, o: NodeOptions): object {
  const pki = (f: string) => join(o.pkiDir, f);
  return {
    kind: 'KubeletConfiguration',
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    address: network.nodeIP,
    port: o.kubeletPort,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: o.kubeletHealthzPort,
    tlsCertFile: pki('kubelet.crt'),
    tlsPrivateKeyFile: pki('kubelet.key'),
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: pki('ca.crt') } },
    authorization: { mode: 'Webhook' },
    // This machine has cgroup v1, managed by cgroupfs, and no swap to speak of.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
    clusterDNS: [network.dnsIP],
    clusterDomain: network.clusterDomain,
    resolvConf: '/etc/resolv.conf',
    podLogsDir: p.podLogs,
    maxPods: 110,
    serializeImagePulls: false,
    systemReserved: { memory: o.systemReservedMemory },
    enforceNodeAllocatable: ['pods'],
    // A busy or full disk on a test machine must not evict the tests' pods or their images.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // Status changes reach the API server promptly.
    nodeStatusUpdateFrequency: '10s',
    shutdownGracePeriod: '0s',
    rotateCertificates: false,
    serverTLSBootstrap: false,
  };
}

export function proxyConfig(o: NodeOptions, nodeName: string): object {
  return {
    kind: 'KubeProxyConfiguration',
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    mode: 'iptables',
    hostnameOverride: nodeName,
    bindAddress: network.nodeIP,
    clusterCIDR: network.podCIDR,
    healthzBindAddress: `127.0.0.1:${o.proxyHealthzPort}`,
    metricsBindAddress: `127.0.0.1:${o.proxyMetricsPort}`,
    clientConnection: { kubeconfig: join(o.pkiDir, 'kube-proxy.kubeconfig') },
    // Leave the machine's conntrack settings alone.
    conntrack: { maxPerCore: 0, min: 0 },
    // Node ports only on the node's own address, never on the machine's other interfaces.
    nodePortAddresses: [`${network.nodeIP}/32`],
  };
}

/** Writes every configuration file of the node. */
export function writeNodeConfigs(p: NodePaths, o: NodeOptions, nodeName: string): void {
  for (const d of [p.dir, p.cniConfDir, p.registryHosts]) mkdirSync(d, { recursive: true });
  writeFileSync(p.containerdConfig, containerdConfig(p, o));
  for (const [host, toml] of Object.entries(registryHosts(o))) {
    mkdirSync(join(p.registryHosts, host), { recursive: true });
    writeFileSync(join(p.registryHosts, host, 'hosts.toml'), toml);
  }
  writeFileSync(join(p.cniConfDir, '10-kw-pods.conflist'), JSON.stringify(cniConfig(p), null, 2));
  writeFileSync(p.kubeletConfig, JSON.stringify(kubeletConfig(p, o), null, 2));
  writeFileSync(p.proxyConfig, JSON.stringify(proxyConfig(o, nodeName), null, 2));
}
