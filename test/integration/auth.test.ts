import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, TOKEN, type Stack } from './support/stack.js';

describe('API authentication', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ executors: 0, env: { KUBE_WORKER_API_TOKEN: `${TOKEN},second-token-for-rotation` } });
  });
  afterAll(() => stack.close());

  it.each([
    ['no Authorization header', null],
    ['a wrong token', 'wrong-token-0123456789'],
    ['an empty bearer', ''],
  ])('answers 401 problem+json to %s', async (_case, token) => {
    for (const [method, route] of [['GET', '/api/v1/worker'], ['GET', '/api/v1/operations/x'], ['POST', '/api/v1/operations']] as const) {
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

  it('answers an unknown route with problem+json', async () => {
    const response = await stack.api('GET', '/api/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('KW_ERR_ROUTE_NOT_FOUND');
  });
});
