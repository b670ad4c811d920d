/**
 * A rendered container's environment as the kubelet would give it: secretKeyRef read from the
 * Secrets in the same rendering (or from `existing`, standing for Secrets the operator made), and
 * `$(NAME)` expanded from the variables defined before it.
 */
import type { KubeObject } from './helm.js';

export type Secrets = Record<string, Record<string, string>>;

/** The Secrets of a rendering, decoded: name → key → value. */
export function renderedSecrets(objects: KubeObject[]): Secrets {
  const secrets: Secrets = {};
  for (const object of objects.filter((o) => o.kind === 'Secret')) {
    const data: Record<string, string> = { ...object.stringData };
    for (const [key, value] of Object.entries<string>(object.data ?? {})) data[key] = Buffer.from(value, 'base64').toString('utf8');
    secrets[object.metadata.name] = data;
  }
  return secrets;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

export function containerEnv(objects: KubeObject[], container: { env?: EnvVar[] }, existing: Secrets = {}): Record<string, string> {
  const secrets = { ...existing, ...renderedSecrets(objects) };
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) {
      const value = secrets[ref.name]?.[ref.key];
      if (value === undefined) throw new Error(`${variable.name}: no key "${ref.key}" in Secret ${ref.name}`);
      env[variable.name] = value;
    } else if (variable.valueFrom) {
      throw new Error(`${variable.name}: only value and secretKeyRef are expected, got ${JSON.stringify(variable.valueFrom)}`);
    } else {
      env[variable.name] = (variable.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
    }
  }
  return env;
}

/** The names a container's env refers to with `$(NAME)` in another variable's value. */
export function expandedNames(container: { env?: EnvVar[] }): Set<string> {
  const names = new Set<string>();
  for (const variable of container.env ?? []) for (const match of (variable.value ?? '').matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) names.add(match[1]!);
  return names;
}
