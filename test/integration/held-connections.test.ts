import { describe, expect, it } from 'vitest';
import { openRequest, type OpenRequest } from './support/raw-http.js';
import { bash, TOKEN, type Stack, useStack } from './support/stack.js';

/** Announces a body of 1000 bytes and sends 1. */
const stalled = (stack: Stack, route: string, authorization?: string): OpenRequest =>
  openRequest(
    stack.url,
    [
      `POST ${route} HTTP/1.1`,
      'Host: kube-worker',
      'Content-Type: application/json',
      'Content-Length: 1000',
      ...(authorization ? [`Authorization: ${authorization}`] : []),
    ].join('\r\n'),
    '{',
  );

const connections = (stack: Stack): Promise<number> =>
  new Promise((resolve, reject) => stack.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));

describe('a client cannot hold the server', () => {
  const stack = useStack({ executors: 0, env: { KUBE_WORKER_REQUEST_TIMEOUT_SECONDS: '1' } });

  it('answers an unauthenticated request, an unknown route and a route that takes no body without waiting for the body, and closes the connection', async () => {
    for (const [route, authorization, status] of [
      ['/api/v1/operations', undefined, 401],
      ['/api/v1/operations', 'Bearer wrong-token-0123456789', 401],
      ['/healthz', undefined, 404],
      ['/nowhere', undefined, 404],
      ['/api/v1/operations/never-submitted/cancel', `Bearer ${TOKEN}`, 404],
    ] as const) {
      const request = stalled(stack, route, authorization);
      const answer = await request.answered;
      expect(answer, route).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
      const exchange = await request.closed;
      expect(exchange.headers.connection, route).toBe('close');
      expect(exchange.headers['content-type'], route).toContain('application/problem+json');
    }
  });

  it('cuts off 300 stalled bodies after the request timeout, with a 408 where one was being read, while normal requests are answered', async () => {
    const before = await connections(stack);
    const held = Array.from({ length: 300 }, (_, i) =>
      i % 3 === 0 ? stalled(stack, '/api/v1/operations', `Bearer ${TOKEN}`) : i % 3 === 1 ? stalled(stack, '/healthz') : stalled(stack, '/api/v1/operations'),
    );
    try {
      // Meanwhile the API answers as usual.
      expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
      expect((await stack.api('GET', '/api/v1/queues')).status).toBe(200);
      const ticket = await stack.submit(bash('echo while others stall'));
      expect((await stack.api('GET', `/api/v1/operations/${ticket}`)).body.state).toBe('queued');

      const exchanges = await Promise.all(held.map((request) => request.closed));
      expect(exchanges.every((exchange) => exchange.closedByServer)).toBe(true);
      const reading = exchanges.filter((_, i) => i % 3 === 0);
      expect(new Set(reading.map((exchange) => exchange.status))).toEqual(new Set([408]));
      expect(reading[0]!.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(reading[0]!.body)).toMatchObject({ status: 408, code: 'KW_ERR_REQUEST_TIMEOUT' });
      expect(new Set(exchanges.filter((_, i) => i % 3 === 1).map((exchange) => exchange.status))).toEqual(new Set([404]));
      expect(new Set(exchanges.filter((_, i) => i % 3 === 2).map((exchange) => exchange.status))).toEqual(new Set([401]));
      // Nothing of them is left on the server: at most the connections it had before.
      expect(await connections(stack)).toBeLessThanOrEqual(before + 2);
      expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
    } finally {
      for (const request of held) request.destroy();
    }
  });
});
