/**
 * One keep-alive HTTPS agent per API server and set of credentials, for every request, watch and
 * log stream a KubeConfig makes. client-node 1.x makes a new agent for each of them
 * (kubernetes-client/javascript#2893; its 2.x caches them), so each request paid a new TLS context
 * and handshake, on the executor and on the API server alike: at scale the largest part of the
 * executor's CPU. Credentials that change (a rotated client certificate, an exec plugin's) get an
 * agent of their own; a proxy keeps the library's own agent.
 */
import { createHash } from 'node:crypto';
import type { Agent as HttpAgent } from 'node:http';
import type { AgentOptions } from 'node:https';
import type * as k8s from '@kubernetes/client-node';

type CreateAgent = (cluster: k8s.Cluster | null, options: AgentOptions) => HttpAgent;

/**
 * An idle connection is closed after this, before the API server closes it (after 90 s): a request
 * sent on a connection the server is closing at that moment would fail.
 */
export const IDLE_CONNECTION_MS = 60_000;

/** What tells one connection's credentials from another's. */
function credentialsKey(cluster: k8s.Cluster | null, o: AgentOptions): string {
  const hash = createHash('sha256');
  // Each option is a string or bytes, a list of them, or (a key or pfx with its passphrase) an object.
  const pieces = [cluster?.server, o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername].flat();
  for (const piece of pieces) hash.update(typeof piece === 'string' || Buffer.isBuffer(piece) ? piece : JSON.stringify(piece ?? null)).update('\0');
  return hash.digest('hex');
}

export function poolAgents(kubeConfig: k8s.KubeConfig): k8s.KubeConfig {
  // createAgent is private in client-node's types, and the one place every request gets its agent.
  const target = kubeConfig as unknown as { createAgent: CreateAgent };
  const create = target.createAgent.bind(kubeConfig);
  /** The latest agent for each server: one made for credentials since replaced goes once its sockets close. */
  const agents = new Map<string, { key: string; agent: HttpAgent }>();
  target.createAgent = (cluster, options) => {
    if (cluster?.proxyUrl) return create(cluster, options);
    const key = credentialsKey(cluster, options);
    const server = cluster?.server ?? '';
    const pooled = agents.get(server);
    if (pooled?.key === key) return pooled.agent;
    const agent = create(cluster, { ...options, keepAlive: true, timeout: IDLE_CONNECTION_MS });
    agents.set(server, { key, agent });
    return agent;
  };
  return kubeConfig;
}
