import { describe, expect, it } from 'vitest';
import { rawRequest } from './support/raw-http.js';
import { TOKEN, useStack } from './support/stack.js';

describe('API authentication', () => {
  const stack = useStack({ executors: 0, env: { KUBE_WORKER_API_TOKEN: `${TOKEN},second-token-for-rotation` } });

  it.each([
    ['no Authorization header', null],
    ['a wrong token', 'wrong-token-0123456789'],
    ['an empty bearer', ''],
  ])('answers 401 problem+json to %s', async (_case, token) => {
    for (const [method, route] of [
      ['GET', '/api/v1/worker'],
      ['GET', '/api/v1/operations/x'],
      ['POST', '/api/v1/operations'],
    ] as const) {
      const response = await stack.api(method, route, method === 'POST' ? {} : undefined, token);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body.code).toBe('KW_ERR_UNAUTHORIZED');
    }
  });

  it('accepts every token of a rotation', async () => {
    expect((await stack.api('GET', '/api/v1/worker', undefined, TOKEN)).status).toBe(200);
    expect((await stack.api('GET', '/api/v1/worker', undefined, 'second-token-for-rotation')).status).toBe(200);
  });

  it.each(['bearer', 'BEARER', 'bEaReR'])('accepts the scheme written %s (it is case-insensitive)', async (scheme) => {
    const response = await fetch(`${stack.url}/api/v1/worker`, { headers: { authorization: `${scheme} ${TOKEN}` } });
    expect(response.status).toBe(200);
  });

  it('refuses two Authorization headers with 400, whichever comes first', async () => {
    for (const [first, second] of [
      [TOKEN, 'wrong-token-0123456789'],
      ['wrong-token-0123456789', TOKEN],
      [TOKEN, TOKEN],
    ]) {
      const exchange = await rawRequest(
        stack.url,
        ['GET /api/v1/worker HTTP/1.1', 'Host: kube-worker', `Authorization: Bearer ${first}`, `authorization: Bearer ${second}`, 'Connection: close'].join(
          '\r\n',
        ),
      );
      expect(exchange.status).toBe(400);
      expect(exchange.headers['content-type']).toContain('application/problem+json');
      expect(JSON.parse(exchange.body)).toMatchObject({ code: 'KW_ERR_VALIDATION', detail: 'send one Authorization header, not several' });
    }
  });

  it('answers an unknown route with problem+json', async () => {
    const response = await stack.api('GET', '/api/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('KW_ERR_ROUTE_NOT_FOUND');
  });
});
