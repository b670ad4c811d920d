import type { Agent } from 'node:http';
import type { AgentOptions } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { IDLE_CONNECTION_MS, poolAgents } from '../../executor/kubernetes/pooled-agents.js';

type CreateAgent = (cluster: k8s.Cluster | null, options: AgentOptions) => Agent & { options: AgentOptions };

const cluster = (server: string, proxyUrl?: string): k8s.Cluster => ({ name: 'c', server, skipTLSVerify: false, ...(proxyUrl ? { proxyUrl } : {}) });
const pooled = (): CreateAgent => (poolAgents(new k8s.KubeConfig()) as unknown as { createAgent: CreateAgent }).createAgent;
const creds = (cert: string): AgentOptions => ({ ca: Buffer.from('ca'), cert: Buffer.from(cert), key: Buffer.from(`key of ${cert}`) });

describe("the executor's connections to the API server", () => {
  it('share one keep-alive agent for as long as the server and credentials stay the same', () => {
    const createAgent = pooled();
    const first = createAgent(cluster('https://api:6443'), creds('a'));
    // The library reads the certificates anew for every request: equal bytes, new buffers.
    expect(createAgent(cluster('https://api:6443'), creds('a'))).toBe(first);
    expect(first.options.keepAlive).toBe(true);
    // Closed idle before the API server would close it (90 s), so no request meets a closing one.
    expect(first.options.timeout).toBe(IDLE_CONNECTION_MS);
    expect(IDLE_CONNECTION_MS).toBeLessThan(90_000);
    expect(first.options.cert).toEqual(Buffer.from('a'));
  });

  it('get a new agent when the credentials change (a rotated certificate), or for another server', () => {
    const createAgent = pooled();
    const first = createAgent(cluster('https://api:6443'), creds('a'));
    const rotated = createAgent(cluster('https://api:6443'), creds('b'));
    expect(rotated).not.toBe(first);
    expect(rotated.options.cert).toEqual(Buffer.from('b'));
    expect(createAgent(cluster('https://api:6443'), creds('b'))).toBe(rotated);
    expect(createAgent(cluster('https://other:6443'), creds('b'))).not.toBe(rotated);
    expect(createAgent(cluster('https://api:6443'), { ...creds('b'), rejectUnauthorized: false })).not.toBe(rotated);
  });

  it("leave a proxy's agent to the library, as it makes it", () => {
    const createAgent = pooled();
    const viaProxy = cluster('https://api:6443', 'http://proxy:3128');
    expect(createAgent(viaProxy, creds('a'))).not.toBe(createAgent(viaProxy, creds('a')));
  });
});
