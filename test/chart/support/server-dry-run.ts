/**
 * `kubectl create --dry-run=server --validate=strict` for rendered objects: the API server runs
 * defaulting, its schema validation (unknown or duplicate fields are errors) and admission, and
 * stores nothing.
 *
 * Sent as raw JSON over the KubeConfig's own TLS and credentials, because the typed client
 * re-serializes known kinds through its models and would silently drop a misspelt field.
 */
import { request } from 'node:https';
import type * as k8s from '@kubernetes/client-node';
import type { KubeObject } from './helm.js';

interface Answer {
  status: number;
  body: any;
}

async function call(kc: k8s.KubeConfig, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no cluster');
  const options: import('node:https').RequestOptions = { method, headers: { accept: 'application/json', 'content-type': 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // Not JSON: keep the text for the message.
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const groupPath = (apiVersion: string): string => (apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);

export type DryRunOutcome = { accepted: true } | { accepted: false; unknownApi: true } | { accepted: false; unknownApi: false; message: string };

/** Dry-runs the creation of one object; `unknownApi` when the server does not serve its kind (a CRD not installed). */
export async function dryRunCreate(kc: k8s.KubeConfig, object: KubeObject): Promise<DryRunOutcome> {
  const discovery = await call(kc, 'GET', groupPath(object.apiVersion));
  const resource =
    discovery.status === 200 ? (discovery.body.resources as k8s.V1APIResource[]).find((r) => r.kind === object.kind && !r.name.includes('/')) : undefined;
  if (!resource) {
    if (discovery.status === 200 || discovery.status === 404) return { accepted: false, unknownApi: true };
    throw new Error(`discovery of ${object.apiVersion} answered ${discovery.status}: ${JSON.stringify(discovery.body)}`);
  }
  const namespace = resource.namespaced ? `/namespaces/${object.metadata.namespace}` : '';
  const answer = await call(kc, 'POST', `${groupPath(object.apiVersion)}${namespace}/${resource.name}?dryRun=All&fieldValidation=Strict`, object);
  if (answer.status === 201 || answer.status === 200) return { accepted: true };
  return { accepted: false, unknownApi: false, message: `${answer.status}: ${typeof answer.body === 'string' ? answer.body : answer.body.message}` };
}
