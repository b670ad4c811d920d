/**
 * test/cluster: a real Kubernetes cluster on this machine: a control plane (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler) and a node (kubelet, kube-proxy, containerd, cluster
 * DNS), the Kubernetes parts built from the Kubernetes Go modules. Build, start, stop and inspect it
 * from here; `cli.ts` is the command line (npm run cluster:*), the e2e global setup imports it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  appendFileSync,
  lstatSync,
  unlinkSync,
  readlinkSync,
  copyFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageRef } from '../images/images.js';
import { network } from './node-config.js';
import { setUpHostNetwork } from './node-host.js';
import { checkHost, nodeComponents, startDns, startNode, stopNode, tearDownNodeHost } from './node.js';
import { externalMetricsAvailable, installKeda } from './keda.js';
import { ensureSimulatedNodes, removeSimulatedNodes, simulatedStatus } from './simulated-nodes.js';
import { moduleZip, unpackModule } from '../support/go-module.js';
import { tryLock, unlock } from '../support/pid-lock.js';
import { components, log, Processes, tail, waitFor } from './processes.js';

const here = dirname(fileURLToPath(import.meta.url));
const goDir = join(here, 'go');
const kwokOverlaySource = join(here, 'kwok', 'debugging_logs.go');

/** Every pinned version, in one place (test/cluster/versions.json; go.mod must agree). */
export const versions = JSON.parse(readFileSync(join(here, 'versions.json'), 'utf8')) as {
  kubernetes: string;
  etcd: string;
  helm: string;
  kwok: string;
  go: string;
};

export const ports = { apiserver: 16443, etcdClient: 16379, etcdPeer: 16380, controllerManager: 16257, scheduler: 16259, kubelet: 16250 };
export const nodeName = 'kw-node';
/** etcd and the control plane's other ports stay on loopback. */
const host = '127.0.0.1';
/** The API server listens on the node's address: pods reach it there through the `kubernetes` Service. */
const apiHost = network.nodeIP;

export const cacheRoot = process.env.KW_CLUSTER_CACHE ?? join(homedir(), '.cache', 'kube-worker', 'cluster');
export const stateDir = process.env.KW_CLUSTER_STATE ?? join(cacheRoot, 'state');
const pkiDir = join(stateDir, 'pki');
const procs = new Processes(stateDir);
export const kubeconfigPath = join(pkiDir, 'admin.kubeconfig');

export class GoMissingError extends Error {
  constructor() {
    super(
      `Go is missing: test/cluster builds Kubernetes from source and needs Go ${versions.go} or newer ` +
        '(put `go` on PATH, install it at /usr/local/go, or set GO=/path/to/go).',
    );
    this.name = 'GoMissingError';
  }
}

// ---------------------------------------------------------------------------------------------
// Build

export function findGo(): string {
  // GO, when set, is the only candidate.
  const candidates = process.env.GO ? [process.env.GO] : [...(process.env.PATH ?? '').split(delimiter).map((d) => d && join(d, 'go')), '/usr/local/go/bin/go'];
  for (const c of candidates) {
    if (!c) continue;
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      /* not there */
    }
  }
  throw new GoMissingError();
}

function hashFiles(paths: string[]): string {
  const h = createHash('sha256');
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e));
    } else if (/\.(go|mod|sum|json)$/.test(p)) {
      h.update(p.slice(here.length)).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  for (const p of paths) walk(p);
  return h.digest('hex').slice(0, 12);
}

interface Artifact {
  name: string;
  path: string;
  build: (go: string, out: string) => void;
}

function versionLdflags(): string {
  const v = versions.kubernetes;
  const [major, minor] = v.replace(/^v/, '').split('.');
  const date = '2000-01-01T00:00:00Z';
  const flags = ['-s', '-w'];
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    flags.push(
      `-X ${pkg}.gitVersion=${v}`,
      `-X ${pkg}.gitMajor=${major}`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
      `-X ${pkg}.buildDate=${date}`,
      `-X ${pkg}.gitCommit=kube-worker-test-cluster`,
    );
  }
  return flags.join(' ');
}

function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod -buildvcs=false' };
}

function run(cmd: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; logFile: string }): void {
  const nice = existsSync('/usr/bin/nice') ? ['/usr/bin/nice', '-n', '10'] : [];
  const full = [...nice, ...cmd];
  appendFileSync(opts.logFile, `\n$ ${cmd.join(' ')}\n`);
  const fd = openSync(opts.logFile, 'a');
  try {
    const r = spawnSync(full[0]!, full.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd] });
    if (r.status !== 0) {
      const tail = readFileSync(opts.logFile, 'utf8').split('\n').slice(-30).join('\n');
      throw new Error(`build step failed (${cmd.join(' ')}); see ${opts.logFile}:\n${tail}`);
    }
  } finally {
    closeSync(fd);
  }
}

function checkGoMod(): void {
  const mod = readFileSync(join(goDir, 'go.mod'), 'utf8');
  const want = [`k8s.io/kubernetes ${versions.kubernetes}`, `go.etcd.io/etcd/server/v3 ${versions.etcd}`];
  for (const w of want) {
    if (!mod.includes(w)) throw new Error(`test/cluster/go/go.mod does not require ${w} (versions.json and go.mod disagree)`);
  }
  const staging = versions.kubernetes.replace(/^v1\./, 'v0.');
  for (const m of mod.matchAll(/=> (k8s\.io\/\S+) (\S+)/g)) {
    if (m[2] !== staging) throw new Error(`go.mod replaces ${m[1]} with ${m[2]}, expected ${staging}`);
  }
}

function artifacts(): Artifact[] {
  const cpKey = hashFiles([join(goDir, 'go.mod'), join(goDir, 'go.sum'), join(goDir, 'cmd', 'kwcluster')]);
  const nodeKey = hashFiles([join(goDir, 'go.mod'), join(goDir, 'go.sum'), join(goDir, 'cmd', 'kwnode'), join(goDir, 'pki'), join(goDir, 'sweep')]);
  const vdir = join(cacheRoot, versions.kubernetes);
  const buildLog = join(cacheRoot, 'build.log');
  return [
    {
      name: 'kwcluster',
      path: join(vdir, `control-plane-${cpKey}`, 'kwcluster'),
      build: (go, out) => {
        checkGoMod();
        run([go, 'build', '-tags', 'selinux,notest', '-trimpath', '-ldflags', versionLdflags(), '-o', out, './cmd/kwcluster'], {
          cwd: goDir,
          env: goEnv(),
          logFile: buildLog,
        });
      },
    },
    {
      name: 'kwnode',
      path: join(vdir, `node-${nodeKey}`, 'kwnode'),
      build: (go, out) => {
        // Same tags and stamps as the control plane, so the packages they share come from the build
        // cache and the node reports the same version.
        run([go, 'build', '-tags', 'selinux,notest', '-trimpath', '-ldflags', versionLdflags(), '-o', out, './cmd/kwnode'], {
          cwd: goDir,
          env: goEnv(),
          logFile: buildLog,
        });
      },
    },
    {
      name: 'helm',
      path: join(cacheRoot, `helm-${versions.helm}-stamped`, 'helm'),
      build: (go, out) => {
        // helm builds from its own module (its go.mod needs no replace lines).
        const gobin = dirname(out) + '.gobin';
        mkdirSync(gobin, { recursive: true });
        run([go, 'install', '-trimpath', '-ldflags', helmLdflags(go), `helm.sh/helm/v3/cmd/helm@${versions.helm}`], {
          cwd: cacheRoot,
          env: { ...goEnv(), GOFLAGS: '-buildvcs=false', GOBIN: gobin },
          logFile: buildLog,
        });
        renameSync(join(gobin, 'helm'), out);
        rmSync(gobin, { recursive: true, force: true });
      },
    },
    {
      name: 'kwok',
      path: join(cacheRoot, `kwok-${versions.kwok}-${hashFiles([kwokOverlaySource])}`, 'kwok'),
      build: (go, out) => {
        // kwok builds from its own module, as downloaded from the Go module proxy, with one file of
        // it replaced: the log follow that ends when the simulated container has ended
        // (test/cluster/kwok/debugging_logs.go). Go refuses -overlay on the module cache, so the
        // module is unpacked next to the binary and built there, with its own go.mod and go.sum.
        const module = `sigs.k8s.io/kwok@${versions.kwok}`;
        const unpacked = `${out}.src`;
        rmSync(unpacked, { recursive: true, force: true });
        try {
          const src = unpackModule(moduleZip(go, module, goEnv()), module, unpacked);
          copyFileSync(kwokOverlaySource, join(src, 'pkg', 'kwok', 'server', 'debugging_logs.go'));
          run([go, 'build', '-trimpath', '-ldflags', '-s -w', '-o', out, './cmd/kwok'], {
            cwd: src,
            env: { ...goEnv(), GOFLAGS: '-mod=readonly -buildvcs=false' },
            logFile: buildLog,
          });
        } finally {
          rmSync(unpacked, { recursive: true, force: true });
        }
      },
    },
  ];
}

/**
 * The stamps released helm binaries carry (helm's Makefile): its version, and the Kubernetes version
 * `helm template` assumes without a cluster, which upstream derives from the k8s.io/client-go its
 * go.mod requires (v0.N → 1.N).
 */
function helmLdflags(go: string): string {
  const dl = spawnSync(go, ['mod', 'download', '-json', `helm.sh/helm/v3@${versions.helm}`], {
    cwd: cacheRoot,
    encoding: 'utf8',
    env: { ...goEnv(), GOFLAGS: '' },
  });
  const goMod = dl.status === 0 ? (JSON.parse(dl.stdout) as { GoMod?: string }).GoMod : undefined;
  const clientGo = goMod ? /k8s\.io\/client-go v0\.(\d+)\./.exec(readFileSync(goMod, 'utf8')) : null;
  if (!clientGo) throw new Error(`cannot read the k8s.io/client-go version of helm ${versions.helm}: ${dl.stderr}`);
  const [major, minor] = ['1', clientGo[1]!];
  const flags = [
    '-s',
    '-w',
    `-X helm.sh/helm/v3/internal/version.version=${versions.helm}`,
    '-X helm.sh/helm/v3/internal/version.gitTreeState=clean',
    '-X helm.sh/helm/v3/internal/version.metadata=',
  ];
  for (const pkg of ['helm.sh/helm/v3/pkg/lint/rules', 'helm.sh/helm/v3/pkg/chartutil']) {
    flags.push(`-X ${pkg}.k8sVersionMajor=${major}`, `-X ${pkg}.k8sVersionMinor=${minor}`);
  }
  return flags.join(' ');
}

/** Names `cluster:bin NAME` answers, mapped to the artifact and the name it is called by. */
const toolNames: Record<string, string> = {
  'kube-apiserver': 'kwcluster',
  'kube-controller-manager': 'kwcluster',
  'kube-scheduler': 'kwcluster',
  etcd: 'kwcluster',
  kubectl: 'kwcluster',
  kwcluster: 'kwcluster',
  kubelet: 'kwnode',
  'kube-proxy': 'kwnode',
  kwnode: 'kwnode',
  helm: 'helm',
  kwok: 'kwok',
};
const multiCall = ['kwcluster', 'kwnode'];

function withLock<T>(fn: () => T): T {
  const lock = join(cacheRoot, 'build.lock');
  for (const started = Date.now(); ; spawnSync('sleep', ['2'])) {
    const attempt = tryLock(lock);
    if (attempt.taken) break;
    if (Date.now() - started > 90 * 60_000) throw new Error(`build lock ${lock} held by pid ${attempt.owner} for too long`);
  }
  try {
    return fn();
  } finally {
    unlock(lock);
  }
}

/** Builds what is missing (cached by version and source hash) and returns every tool's path. */
export function build(opts: { only?: string[] } = {}): Record<string, string> {
  const arts = artifacts().filter((a) => !opts.only || opts.only.includes(a.name));
  const missing = arts.filter((a) => !existsSync(a.path));
  if (missing.length > 0) {
    const go = findGo();
    withLock(() => {
      for (const a of missing) {
        if (existsSync(a.path)) continue;
        mkdirSync(dirname(a.path), { recursive: true });
        const tmp = `${a.path}.tmp-${process.pid}`;
        const t0 = Date.now();
        log(`building ${a.name} (first time for this version; log: ${join(cacheRoot, 'build.log')}) ...`);
        try {
          a.build(go, tmp);
          renameSync(tmp, a.path);
        } finally {
          rmSync(tmp, { force: true });
        }
        log(`built ${a.name} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      }
    });
  }
  if (missing.length > 0) pruneOldBuilds();
  const out: Record<string, string> = {};
  for (const a of arts) out[a.name] = a.path;
  for (const binary of multiCall) {
    if (!out[binary]) continue;
    // A multi-call binary is selected by the name it is called by.
    for (const [tool, art] of Object.entries(toolNames)) {
      if (art !== binary || tool === binary) continue;
      const link = join(dirname(out[binary]), tool);
      if (!existsSync(link)) {
        try {
          if (lstatSync(link).isSymbolicLink()) unlinkSync(link);
        } catch {
          /* absent */
        }
        symlinkSync(binary, link);
      }
      out[tool] = link;
    }
  }
  return out;
}

/** Removes builds of earlier sources of this version (running processes keep their own copy). */
function pruneOldBuilds(): void {
  const vdir = join(cacheRoot, versions.kubernetes);
  const keep = new Set(artifacts().map((a) => dirname(a.path)));
  for (const e of existsSync(vdir) ? readdirSync(vdir) : []) {
    const p = join(vdir, e);
    if (
      /^(control-plane|node)-[0-9a-f]{12}$/.test(e) &&
      !keep.has(p) &&
      (existsSync(join(p, e.startsWith('node') ? 'kwnode' : 'kwcluster')) || readdirSync(p).length === 0)
    ) {
      rmSync(p, { recursive: true, force: true });
    }
  }
}

/** Path of one built tool (building it if needed). */
export function binPath(name: string): string {
  const art = toolNames[name];
  if (!art) throw new Error(`unknown tool ${name}; one of: ${Object.keys(toolNames).join(', ')}`);
  const paths = build({ only: [art] });
  const p = paths[name];
  if (!p) throw new Error(`no path for ${name}`);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Processes

function tls() {
  return {
    ca: readFileSync(join(pkiDir, 'ca.crt')),
    cert: readFileSync(join(pkiDir, 'admin.crt')),
    key: readFileSync(join(pkiDir, 'admin.key')),
  };
}

/** GET on the API server as the cluster admin. */
export function apiGet(path: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: apiHost, port: ports.apiserver, path, method: 'GET', timeout: timeoutMs, ...tls() }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: String(e) }));
    req.end();
  });
}

function httpGet(url: string): Promise<number> {
  return new Promise((resolve) => {
    import('node:http').then(({ get }) => {
      const req = get(url, { timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(0));
    });
  });
}

async function nodeReady(): Promise<boolean> {
  const r = await apiGet(`/api/v1/nodes/${nodeName}`);
  if (r.status !== 200) return false;
  const node = JSON.parse(r.body) as { status?: { conditions?: { type: string; status: string }[] } };
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Whether the cluster DNS answers for pods: a start that stopped half-way leaves a cluster without it. */
async function dnsReady(): Promise<boolean> {
  const r = await apiGet('/apis/apps/v1/namespaces/kube-system/deployments/coredns');
  if (r.status !== 200) return false;
  return ((JSON.parse(r.body) as { status?: { readyReplicas?: number } }).status?.readyReplicas ?? 0) >= 1;
}

export interface ClusterInfo {
  kubeconfig: string;
  server: string;
  stateDir: string;
  version: string;
  startedNow: boolean;
  startSeconds?: number;
}

/** Is every component running and the API answering? */
export async function isUp(): Promise<boolean> {
  if (!existsSync(kubeconfigPath)) return false;
  if (components.some((c) => procs.pidOf(c) === undefined)) return false;
  return (await apiGet('/readyz')).status === 200 && (await nodeReady());
}

/** Do the running processes come from the binaries the current sources build? */
function runningIsCurrent(): boolean {
  const want = new Map(artifacts().map((a) => [a.name, a.path]));
  for (const c of components) {
    const pid = procs.pidOf(c);
    if (pid === undefined) return false;
    if (c === 'containerd') continue;
    let exe = '';
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      return true; // cannot tell: keep it
    }
    const expected = want.get((nodeComponents as readonly string[]).includes(c) ? 'kwnode' : 'kwcluster');
    if (expected && exe !== expected) return false;
  }
  return true;
}

/** The images the node itself runs, from the local registry: the pod sandbox and the cluster DNS. */
async function nodeImages(): Promise<{ pause: string; coredns: string }> {
  return { pause: await imageRef('pause'), coredns: await imageRef('coredns') };
}

export interface UpOptions {
  /**
   * Simulated nodes (kwok) to have beside the real one, tainted so that only pods that tolerate
   * them land there; added to a running cluster too, never taken away. @defaultValue 0
   */
  simulatedNodes?: number;
  /**
   * KEDA installed in the namespace `keda` (keda.ts), on a running cluster too, brought up to date
   * when it is there; never removed. @defaultValue false
   */
  keda?: boolean;
}

/** The tools the cluster runs without simulated nodes: kwok is built only when they are asked for. */
const coreArtifacts = ['kwcluster', 'kwnode', 'helm'];

async function addSimulatedNodes(count: number): Promise<void> {
  if (count <= 0) return;
  const bins = build({ only: ['kwcluster', 'kwok'] });
  await ensureSimulatedNodes(procs, { count, stateDir, pkiDir, kubeconfig: kubeconfigPath, bins: { kwok: bins.kwok!, kubectl: bins.kubectl! }, apiGet });
}

async function addKeda(wanted: boolean): Promise<void> {
  if (!wanted) return;
  const bins = build({ only: ['kwcluster'] });
  await installKeda({ go: findGo(), kubectl: bins.kubectl!, kubeconfig: kubeconfigPath, workDir: stateDir, apiGet });
}

/** Deletes the simulated nodes and stops kwok; the cluster and its real node go on. */
export async function removeSimulated(): Promise<void> {
  if (!existsSync(kubeconfigPath)) return;
  await removeSimulatedNodes(procs, { kubeconfig: kubeconfigPath, bins: { kubectl: binPath('kubectl') } });
}

/**
 * Brings the cluster up (building first if needed), or finds it running. One start at a time on
 * this machine: two starts side by side (CI and a developer's shell) would write the same certificates and ports; the second waits
 * for the first, then finds the cluster it started.
 */
export async function up(opts: UpOptions = {}): Promise<ClusterInfo> {
  const lock = join(cacheRoot, 'up.lock');
  for (const started = Date.now(); ; await new Promise((resolve) => setTimeout(resolve, 1000))) {
    const attempt = tryLock(lock);
    if (attempt.taken) break;
    // The first start may be building the cluster from source: that alone can take an hour on a busy machine.
    if (Date.now() - started > 150 * 60_000) throw new Error(`cluster start lock ${lock} held by pid ${attempt.owner} for too long`);
  }
  try {
    return await upAlone(opts);
  } finally {
    unlock(lock);
  }
}

async function upAlone(opts: UpOptions): Promise<ClusterInfo> {
  const simulatedNodes = opts.simulatedNodes ?? 0;
  const server = `https://${apiHost}:${ports.apiserver}`;
  const info = (startedNow: boolean, startSeconds?: number): ClusterInfo => ({
    kubeconfig: kubeconfigPath,
    server,
    stateDir,
    version: versions.kubernetes,
    startedNow,
    startSeconds,
  });
  if (components.every((c) => procs.pidOf(c) !== undefined) && existsSync(kubeconfigPath) && runningIsCurrent()) {
    // Running: give a busy API server time to answer rather than restarting it under other users.
    let answers = false;
    try {
      await waitFor('the running cluster to answer', async () => (await apiGet('/readyz')).status === 200 && (await nodeReady()) && (await dnsReady()), 90_000);
      answers = true;
    } catch (error) {
      log(`the running cluster does not answer (${(error as Error).message.split('\n')[0]}): restarting it`);
    }
    if (answers) {
      // Outside the try: simulated nodes or KEDA failing to come up is no reason to restart a
      // cluster others use; the caller that asked for them is told why.
      await addSimulatedNodes(simulatedNodes);
      await addKeda(opts.keda ?? false);
      return info(false);
    }
  }
  checkHost();
  const bins = build({ only: coreArtifacts });
  const images = await nodeImages();
  await down({ quiet: true });
  const t0 = Date.now();
  mkdirSync(stateDir, { recursive: true });
  setUpHostNetwork();
  const pki = spawnSync(bins.kwnode!, ['pki', '--dir', pkiDir, '--server', server, '--node-name', nodeName, '--node-ip', network.nodeIP], { encoding: 'utf8' });
  if (pki.status !== 0) throw new Error(`cluster: creating certificates failed: ${pki.stderr}`);
  const p = (f: string) => join(pkiDir, f);
  // A fresh store on every start: no objects from an earlier run.
  rmSync(join(stateDir, 'etcd'), { recursive: true, force: true });

  procs.start('etcd', bins.etcd!, [
    '--name=kw',
    `--data-dir=${join(stateDir, 'etcd')}`,
    `--listen-client-urls=http://${host}:${ports.etcdClient}`,
    `--advertise-client-urls=http://${host}:${ports.etcdClient}`,
    `--listen-peer-urls=http://${host}:${ports.etcdPeer}`,
    `--initial-advertise-peer-urls=http://${host}:${ports.etcdPeer}`,
    `--initial-cluster=kw=http://${host}:${ports.etcdPeer}`,
    '--unsafe-no-fsync',
    '--log-level=warn',
  ]);
  await waitFor('etcd', async () => (await httpGet(`http://${host}:${ports.etcdClient}/health`)) === 200, 20_000, procs.logOf('etcd'));

  procs.start('kube-apiserver', bins['kube-apiserver']!, [
    `--etcd-servers=http://${host}:${ports.etcdClient}`,
    `--bind-address=${apiHost}`,
    `--advertise-address=${apiHost}`,
    `--secure-port=${ports.apiserver}`,
    `--tls-cert-file=${p('apiserver.crt')}`,
    `--tls-private-key-file=${p('apiserver.key')}`,
    `--client-ca-file=${p('ca.crt')}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    '--api-audiences=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${p('sa.pub')}`,
    `--service-account-signing-key-file=${p('sa.key')}`,
    `--service-cluster-ip-range=${network.serviceCIDR}`,
    `--kubelet-client-certificate=${p('apiserver-kubelet-client.crt')}`,
    `--kubelet-client-key=${p('apiserver-kubelet-client.key')}`,
    '--kubelet-preferred-address-types=InternalIP',
    // The aggregation layer (extension API servers behind an APIService, such as KEDA's metrics
    // server): the front proxy's CA and client certificate, the headers it names the user in, and
    // requests sent to the APIService's endpoint addresses rather than through its Service IP.
    `--requestheader-client-ca-file=${p('front-proxy-ca.crt')}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${p('front-proxy-client.crt')}`,
    `--proxy-client-key-file=${p('front-proxy-client.key')}`,
    '--enable-aggregator-routing=true',
    '--profiling=false',
    '--event-ttl=1h',
    '--v=1',
    `--cert-dir=${join(stateDir, 'apiserver')}`,
  ]);
  await waitFor('kube-apiserver /readyz', async () => (await apiGet('/readyz')).status === 200, 60_000, procs.logOf('kube-apiserver'));

  const secure = (c: 'controller-manager' | 'scheduler', port: number) => [
    `--kubeconfig=${p(`${c}.kubeconfig`)}`,
    `--authentication-kubeconfig=${p(`${c}.kubeconfig`)}`,
    `--authorization-kubeconfig=${p(`${c}.kubeconfig`)}`,
    `--bind-address=${host}`,
    `--secure-port=${port}`,
    '--leader-elect=false',
    '--profiling=false',
    '--v=1',
  ];
  procs.start('kube-controller-manager', bins['kube-controller-manager']!, [
    ...secure('controller-manager', ports.controllerManager),
    '--controllers=*',
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${p('sa.key')}`,
    `--root-ca-file=${p('ca.crt')}`,
    `--cluster-signing-cert-file=${p('ca.crt')}`,
    `--cluster-signing-key-file=${p('ca.key')}`,
    '--cluster-name=kube-worker-test',
    `--service-cluster-ip-range=${network.serviceCIDR}`,
    // Its client's default rate (20 per second, bursts of 30) holds thousands of Jobs back while
    // the machine idles (bench:scale: the Job controller's queue at 1,960, each write waiting 0.3 s
    // on the limiter); clusters run at scale raise it likewise.
    '--kube-api-qps=200',
    '--kube-api-burst=400',
  ]);
  procs.start('kube-scheduler', bins['kube-scheduler']!, secure('scheduler', ports.scheduler));
  const node = {
    nodeName,
    pkiDir,
    kubeletPort: ports.kubelet,
    images,
    bins: { kubelet: bins.kubelet!, 'kube-proxy': bins['kube-proxy']!, kubectl: bins.kubectl! },
    plainHttpRegistries: [...new Set([images.pause, images.coredns].map((i) => i.split('/')[0]!).filter((h) => /^127\.0\.0\.1:\d+$/.test(h)))],
  };
  await startNode(procs, node);
  await waitFor(`node ${nodeName} Ready`, nodeReady, 60_000, procs.logOf('kubelet'));
  await waitFor(
    'the default ServiceAccount (controller-manager running)',
    async () => (await apiGet('/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
    30_000,
    procs.logOf('kube-controller-manager'),
  );
  await startDns(procs, node, kubeconfigPath);
  for (const c of components) {
    if (procs.pidOf(c) === undefined) throw new Error(`cluster: ${c} exited; see ${procs.logOf(c)}\n${tail(procs.logOf(c))}`);
  }
  await addSimulatedNodes(simulatedNodes);
  await addKeda(opts.keda ?? false);
  const secs = (Date.now() - t0) / 1000;
  log(`up in ${secs.toFixed(1)} s — kubeconfig: ${kubeconfigPath}`);
  return info(true, secs);
}

/** Stops everything: the node with its pods first, then the control plane; then what they left. */
export async function down(opts: { quiet?: boolean } = {}): Promise<void> {
  const quiet = opts.quiet ?? false;
  const kwnode = artifacts().find((a) => a.name === 'kwnode')!.path;
  await procs.stop(['kwok'], 3_000, quiet);
  const removed = await stopNode(procs, existsSync(kwnode) ? kwnode : undefined, quiet);
  await procs.stop(['kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'], 3_000, quiet);
  removed.push(...tearDownNodeHost(stateDir));
  rmSync(procs.runDir, { recursive: true, force: true });
  if (!quiet && removed.length > 0) log(`removed ${removed.join(', ')}`);
}

export async function status(): Promise<{ up: boolean; lines: string[] }> {
  const lines: string[] = [];
  for (const c of components) {
    const pid = procs.pidOf(c);
    lines.push(`${c.padEnd(24)} ${pid ? `running (pid ${pid})` : 'stopped'}   log: ${procs.logOf(c)}`);
  }
  const ready = existsSync(kubeconfigPath) ? await apiGet('/readyz') : { status: 0, body: '' };
  lines.push(
    `apiserver /readyz         ${ready.status === 200 ? 'ok' : `not ready (${ready.status || 'no answer'})`} at https://${apiHost}:${ports.apiserver}`,
  );
  const node = ready.status === 200 && (await nodeReady());
  lines.push(`node ${nodeName}              ${node ? 'Ready' : 'not Ready'} (${network.nodeIP})`);
  lines.push(`simulated nodes           ${await simulatedStatus(procs, { apiGet })}`);
  if (ready.status === 200) lines.push(`KEDA                      ${(await externalMetricsAvailable(apiGet)) || 'external metrics served'}`);
  lines.push(`kubeconfig                ${kubeconfigPath}`);
  lines.push(`kubernetes                ${versions.kubernetes} (etcd ${versions.etcd}, helm ${versions.helm}, kwok ${versions.kwok})`);
  return { up: await isUp(), lines };
}
