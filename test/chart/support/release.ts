/**
 * A release of the chart on the test cluster, driven as a user drives one: the commands NOTES.txt
 * prints, run by a shell with the cluster's kubectl on PATH; a Redis volume made the way a small
 * cluster without a provisioner makes one (a StorageClass without provisioner and a `local`
 * PersistentVolume on the node); and the API reached through `kubectl port-forward` or the Service.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { binPath, nodeName, stateDir } from '../../cluster/cluster.js';
import { kubeconfigPath } from '../../e2e/support/cluster.js';

let binDir: string | undefined;

/** A folder holding `kubectl`, to put first on PATH: NOTES.txt's commands call it by that name. */
function kubectlDir(): string {
  if (!binDir) {
    binDir = mkdtempSync(join(tmpdir(), 'kube-worker-kubectl-'));
    symlinkSync(binPath('kubectl'), join(binDir, 'kubectl'));
  }
  return binDir;
}

function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${kubectlDir()}:${process.env.PATH ?? ''}`, KUBECONFIG: kubeconfigPath(), ...extra };
}

/** Runs a shell command line as a user types it (kubectl on PATH, KUBECONFIG set); its stdout. */
export function userShell(line: string, env: Record<string, string> = {}, timeoutMs = 60_000): string {
  const r = spawnSync('sh', ['-c', line], { env: userEnv(env), encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`\`${line}\` failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * The command of NOTES.txt (in helm's output) that starts, once trimmed, with `start`, with the
 * lines it continues on (a trailing backslash) joined.
 */
export function notesLine(notes: string, start: string): string {
  const all = notes.split('\n').map((l) => l.trim());
  let at = all.findIndex((l) => l.startsWith(start));
  if (at < 0) throw new Error(`NOTES.txt has no line starting with ${start}:\n${notes}`);
  let line = all[at]!;
  while (line.endsWith('\\') && at + 1 < all.length) line = `${line.slice(0, -1)} ${all[++at]}`;
  return line;
}

/** The API token, by the `export KUBE_WORKER_API_TOKEN=...` line of NOTES.txt. */
export function tokenFromNotes(notes: string): string {
  return userShell(`${notesLine(notes, 'export KUBE_WORKER_API_TOKEN=')}; printf %s "$KUBE_WORKER_API_TOKEN"`);
}

export interface PortForward {
  url: string;
  close(): void;
}

/**
 * NOTES.txt's `kubectl port-forward ... LOCAL:REMOTE &`, on a free local port instead of 8080
 * (others use this machine); resolves once kubectl says it forwards.
 */
export function portForwardFromNotes(notes: string): Promise<PortForward> {
  const line = notesLine(notes, 'kubectl port-forward').replace(/\s*&$/, '');
  const args = line
    .split(/\s+/)
    .slice(1)
    .map((a) => a.replace(/^\d+:(\d+)$/, ':$1'));
  const child: ChildProcess = spawn('kubectl', [...args, '--address', '127.0.0.1'], { env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let said = '';
    const onData = (chunk: Buffer) => {
      said += chunk.toString();
      const port = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(said)?.[1];
      if (port) resolve({ url: `http://127.0.0.1:${port}`, close: () => child.kill('SIGTERM') });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`kubectl ${args.join(' ')} exited (${code}): ${said}`)));
  });
}

/** A StorageClass without provisioner and one `local` PersistentVolume on the node, for the Redis PVC. */
export interface StaticVolume {
  storageClass: string;
  path: string;
  remove(): Promise<void>;
}

export async function staticVolume(kc: k8s.KubeConfig, name: string, size: string): Promise<StaticVolume> {
  const storage = kc.makeApiClient(k8s.StorageV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  // On the node's disk; the kubelet gives it to the pod's fsGroup (a `local` volume, unlike hostPath, is chowned).
  const path = join(stateDir, 'volumes', name);
  mkdirSync(path, { recursive: true });
  await storage.createStorageClass({
    body: { metadata: { name }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Retain' },
  });
  await core.createPersistentVolume({
    body: {
      metadata: { name },
      spec: {
        capacity: { storage: size },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: name,
        local: { path },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] }] } },
      },
    },
  });
  return {
    storageClass: name,
    path,
    async remove() {
      await core.deletePersistentVolume({ name }).catch(() => undefined);
      await storage.deleteStorageClass({ name }).catch(() => undefined);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** repository and tag of an image reference (host:port/path:tag). */
export function splitImage(ref: string): { repository: string; tag: string } {
  const at = ref.lastIndexOf(':');
  if (at <= ref.lastIndexOf('/')) throw new Error(`image ${ref} has no tag`);
  return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
}

/** Requests and limits small enough for a release beside the other tests on a two-core node. */
export const SMALL_DISPATCHER = { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '384Mi' } };
export const SMALL_EXECUTOR = { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } };

/**
 * What every installed release here shares, as a user sets it: the images pushed to their registry
 * (here the test images: product, redis, script tools), small script pods, and the bundled Redis on
 * a volume of their storage class.
 */
export function releaseBasics(images: { product: string; redis: string; tools: string }, volume: StaticVolume): Record<string, unknown> {
  return {
    image: splitImage(images.product),
    scriptPods: {
      worker: { image: splitImage(images.tools) },
      resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '128Mi' } },
      pendingTimeoutSeconds: 600,
    },
    redis: {
      image: splitImage(images.redis),
      persistence: { storageClass: volume.storageClass, size: '1Gi' },
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    },
  };
}

/** The kube-worker API, as a client with the token sees it. */
export class Api {
  constructor(
    public url: string,
    private token: string,
  ) {}

  async call(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: response.status, body: parsed };
  }

  async submit(operation: Record<string, unknown>): Promise<string> {
    const r = await this.call('POST', '/api/v1/operations', operation);
    if (r.status !== 202) throw new Error(`submit answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body.ticket as string;
  }

  /** The operation once it is final; retries through connection errors (a pod restarting). */
  async final(ticket: string, timeoutMs: number): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    for (;;) {
      try {
        const { status, body } = await this.call('GET', `/api/v1/operations/${encodeURIComponent(ticket)}?limit=10000`);
        last = `${status} ${body?.state ?? JSON.stringify(body)}`;
        if (['succeeded', 'failed', 'cancelled'].includes(body?.state)) return body;
      } catch (err) {
        last = String(err);
      }
      if (Date.now() > deadline) throw new Error(`operation ${ticket} not final after ${timeoutMs / 1000}s: ${last}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** A pod's state in one line, for a failure message. */
export function podLine(pod: k8s.V1Pod): string {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const states = statuses.map((s) => {
    const st = s.state?.waiting ?? s.state?.terminated;
    return `${s.name}:${s.ready ? 'ready' : 'not-ready'}${st ? `(${st.reason ?? ''} ${st.message ?? ''})` : ''} restarts=${s.restartCount}`;
  });
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  return `${pod.metadata?.name} ${pod.status?.phase} ${states.join(' ')}${unscheduled ? ` unscheduled: ${unscheduled.message}` : ''}`;
}
