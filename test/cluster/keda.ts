/**
 * KEDA in the test cluster (`npm run cluster:up -- --keda`, or KW_CLUSTER_KEDA=1): its CRDs, RBAC,
 * operator and metrics API server in the namespace `keda`, and the APIService
 * v1beta1.external.metrics.k8s.io, from the module's own kustomize configuration (config/minimal,
 * through `kubectl kustomize`) with the image of test/images (`keda`: both binaries, only the Redis
 * scalers). Applied server-side, so installing over an earlier install changes only what differs
 * (the operator's own fields, such as the APIService's caBundle, stay): everything but the
 * APIService first, the APIService once the metrics server is Ready; then waits until both
 * Deployments are rolled out and the API server reaches the metrics server.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageRef } from '../images/images.js';
import { versions as imageVersions } from '../images/recipes.js';
import { moduleZip, unpackModule } from '../support/go-module.js';
import { log, waitFor } from './processes.js';

export const kedaNamespace = 'keda';
export const kedaDeployments = ['keda-operator', 'keda-metrics-apiserver'] as const;
export const externalMetricsApiService = 'v1beta1.external.metrics.k8s.io';
const kedaModule = `github.com/kedacore/keda/v2@${imageVersions.keda.version}`;
/** The images config/ names, replaced by the test image. */
const upstreamImages = ['ghcr.io/kedacore/keda', 'ghcr.io/kedacore/keda-metrics-apiserver'];

export interface KedaInstall {
  go: string;
  kubectl: string;
  kubeconfig: string;
  /** A scratch folder of the cluster's state: the kustomization is put together there. */
  workDir: string;
  /** GET on the API server as the admin. */
  apiGet(path: string): Promise<{ status: number; body: string }>;
}

/**
 * What the test cluster changes in KEDA's configuration: the image from the local registry, pulled
 * once, and small CPU and memory requests (both share a two-core node with the tests' pods).
 */
export function kustomization(moduleDir: string, image: string): object {
  const [name, tag] = [image.slice(0, image.lastIndexOf(':')), image.slice(image.lastIndexOf(':') + 1)];
  const container = (deployment: string) => ({
    target: { group: 'apps', version: 'v1', kind: 'Deployment', name: deployment },
    patch: JSON.stringify([
      { op: 'replace', path: '/spec/template/spec/containers/0/imagePullPolicy', value: 'IfNotPresent' },
      { op: 'replace', path: '/spec/template/spec/containers/0/resources/requests', value: { cpu: '10m', memory: '64Mi' } },
    ]),
  });
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    // `./`: a path beginning with github.com/ would be fetched as a remote base.
    resources: [`./${moduleDir}/config/minimal`],
    images: upstreamImages.map((upstream) => ({ name: upstream, newName: name, newTag: tag })),
    patches: kedaDeployments.map(container),
  };
}

function kubectl(o: KedaInstall, args: string[], input?: string): string {
  const r = spawnSync(o.kubectl, ['--kubeconfig', o.kubeconfig, ...args], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`cluster: kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** kustomize's output split in two: the APIService of the external metrics, and everything else. */
export function splitApiService(manifests: string): { apiService: string; rest: string } {
  const documents = manifests.split(/^---\n/m).filter((d) => d.trim() !== '');
  const isApiService = (d: string) => /^kind: APIService$/m.test(d) && /^apiVersion: apiregistration\.k8s\.io\//m.test(d);
  const apiService = documents.filter(isApiService);
  if (apiService.length !== 1) throw new Error(`KEDA's configuration has ${apiService.length} APIServices, expected 1`);
  return { apiService: apiService[0]!, rest: documents.filter((d) => !isApiService(d)).join('---\n') };
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** Whether the Deployment runs its current template, Available; or what it lacks. */
async function deploymentReady(o: KedaInstall, name: string): Promise<string> {
  const r = await o.apiGet(`/apis/apps/v1/namespaces/${kedaNamespace}/deployments/${name}`);
  if (r.status !== 200) return `${name}: ${r.status}`;
  const d = JSON.parse(r.body) as {
    metadata: { generation: number };
    spec: { replicas?: number };
    status?: { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number };
  };
  const want = d.spec.replicas ?? 1;
  const s = d.status ?? {};
  const done = (s.observedGeneration ?? 0) >= d.metadata.generation && s.updatedReplicas === want && s.availableReplicas === want && s.replicas === want;
  return done ? '' : `${name}: ${s.availableReplicas ?? 0}/${want} available, ${s.updatedReplicas ?? 0} updated`;
}

/** Whether the API server reaches the metrics server (the APIService's Available condition); or why not. */
export async function externalMetricsAvailable(apiGet: KedaInstall['apiGet']): Promise<string> {
  const r = await apiGet(`/apis/apiregistration.k8s.io/v1/apiservices/${externalMetricsApiService}`);
  if (r.status === 404) return `not installed (npm run cluster:up -- --keda)`;
  if (r.status !== 200) return `${externalMetricsApiService}: ${r.status}`;
  const available = (JSON.parse(r.body) as { status?: { conditions?: Condition[] } }).status?.conditions?.find((c) => c.type === 'Available');
  return available?.status === 'True'
    ? ''
    : `${externalMetricsApiService}: ${available ? `${available.reason} ${available.message ?? ''}` : 'no condition yet'}`;
}

/** Installs KEDA (or brings an earlier install up to date) and waits until it serves external metrics. */
export async function installKeda(o: KedaInstall): Promise<void> {
  const t0 = Date.now();
  const image = await imageRef('keda');
  const stage = join(o.workDir, 'keda');
  rmSync(stage, { recursive: true, force: true });
  let manifests = '';
  try {
    const zip = moduleZip(o.go, kedaModule, { ...process.env, GOTOOLCHAIN: imageVersions.keda.toolchain });
    const moduleDir = unpackModule(zip, kedaModule, stage, ['config']);
    // kustomize loads only what is below the kustomization: the module is unpacked there.
    const relative = moduleDir.slice(stage.length + 1);
    mkdirSync(stage, { recursive: true });
    writeFileSync(join(stage, 'kustomization.yaml'), JSON.stringify(kustomization(relative, image), null, 2));
    manifests = kubectl(o, ['kustomize', stage]);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const { apiService, rest } = splitApiService(manifests);
  const apply = (text: string) => kubectl(o, ['apply', '--server-side', '--force-conflicts', '--field-manager=kube-worker-test-cluster', '-f', '-'], text);
  let why = '';
  const until = async (what: string, states: () => Promise<string[]>): Promise<void> => {
    try {
      await waitFor(
        what,
        async () => {
          why = (await states()).filter(Boolean).join('; ');
          return why === '';
        },
        300_000,
      );
    } catch (err) {
      const seen = spawnSync(o.kubectl, ['--kubeconfig', o.kubeconfig, 'get', 'pods,events', '-n', kedaNamespace, '-o', 'wide'], { encoding: 'utf8' });
      throw new Error(`${(err as Error).message}\n${why}\n${seen.stdout}${seen.stderr}`);
    }
  };
  apply(rest);
  // The APIService only once its metrics server answers: while an aggregated API is registered and
  // unavailable, the namespace controller fails every namespace deletion of the cluster (its
  // discovery is incomplete), and other tests delete theirs all the time.
  await until('KEDA: its metrics server rolled out', async () => [await deploymentReady(o, 'keda-metrics-apiserver')]);
  apply(apiService);
  await until('KEDA: its operator and metrics server rolled out, external metrics served', async () => [
    ...(await Promise.all(kedaDeployments.map((d) => deploymentReady(o, d)))),
    await externalMetricsAvailable(o.apiGet),
  ]);
  log(`KEDA ${imageVersions.keda.version} installed in ${((Date.now() - t0) / 1000).toFixed(1)} s (namespace ${kedaNamespace}, image ${image})`);
}
