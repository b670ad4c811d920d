import { describe, expect, it } from 'vitest';
import { TOKEN, type Stack, useStack } from './support/stack.js';

const USER = 'operator';
const PASSWORD = 'dashboard-password-1';
const DASHBOARD_ENV = { KUBE_WORKER_DASHBOARD_USER: USER, KUBE_WORKER_DASHBOARD_PASSWORD: PASSWORD };

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function call(stack: Stack, method: string, route: string, authorization?: string): Promise<Response> {
  return fetch(`${stack.url}${route}`, { method, headers: authorization ? { authorization } : {} });
}

describe('the dashboard', () => {
  const stack = useStack({ executors: 0, env: DASHBOARD_ENV });

  it.each([
    ['no credentials', undefined],
    ['the API bearer token', `Bearer ${TOKEN}`],
    ['the API token as a basic password', basic(USER, TOKEN)],
    ['a wrong password', basic(USER, `${PASSWORD}x`)],
    ['a wrong user', basic('someone', PASSWORD)],
    ['a malformed basic header', 'Basic not-base64!'],
  ])('answers 401 with a Basic challenge to %s', async (_case, authorization) => {
    for (const route of ['/dashboard', '/dashboard/', '/dashboard/api/queues', '/dashboard/static/favicon-32x32.png']) {
      const response = await call(stack, 'GET', route, authorization);
      expect(response.status, route).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="kube-worker dashboard"/);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect((await response.json()).code).toBe('KW_ERR_DASHBOARD_UNAUTHORIZED');
    }
  });

  it('opens with the dashboard credentials and lists every pool', async () => {
    const page = await call(stack, 'GET', '/dashboard', basic(USER, PASSWORD));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const api = await call(stack, 'GET', '/dashboard/api/queues', basic(USER, PASSWORD));
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(queues.map((q) => q.name)).toEqual(['default']);
    expect(queues[0]!.readOnlyMode).toBe(true);
  });

  it('is read-only: it refuses to pause a queue', async () => {
    const response = await call(stack, 'PUT', '/dashboard/api/queues/default/pause', basic(USER, PASSWORD));
    expect(response.status).toBe(405);
    const { queues } = (await (await call(stack, 'GET', '/dashboard/api/queues', basic(USER, PASSWORD))).json()) as { queues: { isPaused: boolean }[] };
    expect(queues[0]!.isPaused).toBe(false);
  });

  it('does not open the API with its credentials', async () => {
    for (const route of ['/api/v1/worker', '/api/v1/queues']) {
      const response = await call(stack, 'GET', route, basic(USER, PASSWORD));
      expect(response.status).toBe(401);
      expect((await response.json()).code).toBe('KW_ERR_UNAUTHORIZED');
    }
  });
});

describe('the dashboard with KUBE_WORKER_DASHBOARD_WRITE=true', () => {
  const stack = useStack({ executors: 0, env: { ...DASHBOARD_ENV, KUBE_WORKER_DASHBOARD_WRITE: 'true' } });

  it('lets an operator pause and resume a queue', async () => {
    expect((await call(stack, 'PUT', '/dashboard/api/queues/default/pause', basic(USER, PASSWORD))).status).toBe(200);
    const paused = (await (await call(stack, 'GET', '/dashboard/api/queues', basic(USER, PASSWORD))).json()) as {
      queues: { isPaused: boolean; readOnlyMode: boolean }[];
    };
    expect(paused.queues[0]).toMatchObject({ isPaused: true, readOnlyMode: false });
    expect((await call(stack, 'PUT', '/dashboard/api/queues/default/resume', basic(USER, PASSWORD))).status).toBe(200);
  });
});

describe('without dashboard credentials', () => {
  const stack = useStack({ executors: 0 });

  it('serves no dashboard', async () => {
    for (const authorization of [undefined, basic(USER, PASSWORD), `Bearer ${TOKEN}`]) {
      const response = await call(stack, 'GET', '/dashboard', authorization);
      expect(response.status).toBe(404);
      expect((await response.json()).code).toBe('KW_ERR_ROUTE_NOT_FOUND');
    }
  });
});
