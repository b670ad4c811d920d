/** The product's HTTP API, as a user's client calls it, for a dispatcher running in a container. */
import type { OperationStatus } from '../../../core/contract/status.js';

export interface Api {
  submit(operation: Record<string, unknown>): Promise<string>;
  status(ticket: string): Promise<OperationStatus>;
  waitFor(ticket: string, what: string, done: (status: OperationStatus) => boolean, timeoutMs?: number): Promise<OperationStatus>;
  waitUntilDone(ticket: string, timeoutMs?: number): Promise<OperationStatus>;
}

export function api(baseUrl: string, token: string): Api {
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: await res.json() };
  };
  const client: Api = {
    async submit(operation) {
      const res = await call('POST', '/api/v1/operations', { pool: 'default', ...operation });
      if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.ticket as string;
    },
    async status(ticket) {
      return (await call('GET', `/api/v1/operations/${ticket}?limit=10000`)).body as OperationStatus;
    },
    async waitFor(ticket, what, done, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const status = await client.status(ticket);
        if (status.state && done(status)) return status;
        if (Date.now() > deadline) throw new Error(`operation ${ticket} is ${status.state}, still not ${what} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    waitUntilDone: (ticket, timeoutMs) => client.waitFor(ticket, 'done', (s) => ['succeeded', 'failed', 'cancelled'].includes(s.state), timeoutMs),
  };
  return client;
}

export const bash = (body: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ script: { syntax: 'bash', body }, ...extra });
