/**
 * The chart through the real helm (built by test/cluster): render it with values, lint it, and
 * read what it renders.
 *
 *   const objects = await render({ executor: { concurrency: 8 } });
 *   const executor = find(objects, 'Deployment', 'kw-kube-worker-executor');
 *
 * With CI=true a helm that cannot be had fails the run; elsewhere the suites are skipped with the
 * reason (as the e2e suites are when there is no test cluster).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeUnless } from '../../support/describe-unless.js';
import { parseAllDocuments } from 'yaml';
import { binPath, GoMissingError, versions } from '../../cluster/cluster.js';

export const CHART = resolve('charts/kube-worker');
export const RELEASE = 'kw';
export const NAMESPACE = 'kube-worker';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: any };
  [key: string]: any;
}

/** Values files and helm's own homes, for this run only. */
const scratch = mkdtempSync(join(tmpdir(), 'kube-worker-chart-'));
let files = 0;

let helmPath: string | undefined;
let helmMissing: string | undefined;

function findHelm(): void {
  if (helmPath || helmMissing) return;
  try {
    helmPath = binPath('helm');
  } catch (error) {
    if (process.env.CI === 'true' || !(error instanceof GoMissingError)) throw error;
    helmMissing = `no helm: ${error.message}`;
  }
}

/** `describe` when helm can be had; otherwise a skipped suite whose name carries the reason. */
export function describeHelm(name: string, fn: () => void): void {
  findHelm();
  describeUnless(helmMissing, name, fn);
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm; never throws on a non-zero exit (the caller looks at the code). */
export function helm(args: string[], env: Record<string, string> = {}): Promise<HelmResult> {
  findHelm();
  if (!helmPath) throw new Error(helmMissing);
  return new Promise((done) => {
    // helm's own config, cache and data stay in this run's scratch folder, not the user's home.
    const homes = { HELM_CONFIG_HOME: join(scratch, 'config'), HELM_CACHE_HOME: join(scratch, 'cache'), HELM_DATA_HOME: join(scratch, 'data') };
    execFile(helmPath!, args, { env: { ...process.env, ...homes, ...env }, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Values as a file for `-f` (JSON is YAML). */
export function valuesFile(values: object): string {
  files += 1;
  const path = join(scratch, `values-${files}.json`);
  writeFileSync(path, JSON.stringify(values));
  return path;
}

/** The Kubernetes version helm renders for: the test cluster's (the chart's kubeVersion is checked against it). */
export const KUBE_VERSION = versions.kubernetes;

/** `helm template` with these values; throws with helm's message when it refuses them. */
export async function render(values: object = {}, namespace = NAMESPACE): Promise<KubeObject[]> {
  const result = await templateResult(values, namespace);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseManifests(result.stdout);
}

export function templateResult(values: object, namespace = NAMESPACE): Promise<HelmResult> {
  return helm(['template', RELEASE, CHART, '--namespace', namespace, '--kube-version', KUBE_VERSION, '-f', valuesFile(values)]);
}

export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${doc.errors[0]!.message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((object): object is KubeObject => object !== null);
}

export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

export const kinds = (objects: KubeObject[]): string[] => objects.map((o) => o.kind);

/** The first container of a Deployment's or StatefulSet's pod. */
export const containerOf = (workload: KubeObject): any => workload.spec.template.spec.containers[0];
