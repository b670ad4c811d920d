import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENT_FILE, REGENERATE } from '../../build/openapi-contract.js';
import { TICKET_PATTERN } from '../../core/contract/operation.js';
import { startStack, TOKEN, type Stack } from './support/stack.js';

/** Every "METHOD /path" fastify serves, from its route tree (HEAD is implied by GET). */
function servedRoutes(stack: Stack): string[] {
  const routes: string[] = [];
  const parents: string[] = [];
  for (const line of stack.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (.*?)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    parents.length = depth;
    const path = parents.join('') + match[2]!;
    parents.push(path.slice(parents.join('').length));
    for (const method of (match[3] ?? '').split(', ').filter((m) => m && m !== 'HEAD')) routes.push(`${method} ${path}`);
  }
  return routes;
}

describe('the OpenAPI document', () => {
  let stack: Stack;
  let doc: { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } };
  beforeAll(async () => {
    stack = await startStack({ executors: 0 });
    doc = (await stack.api('GET', '/docs/json', undefined, null)).body;
  });
  afterAll(() => stack.close());

  it('is OpenAPI 3.1 and describes exactly the routes served under /api', () => {
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const served = servedRoutes(stack).filter((route) => route.split(' ')[1]!.startsWith('/api/'));
    expect(served).toContain('GET /api/v1/queues');
    expect(documented.sort()).toEqual(served.sort());
  });

  it('documents the schemas that validate requests and answers', () => {
    const submit = doc.paths['/api/v1/operations']!.post;
    expect(JSON.stringify(submit.requestBody)).toContain('OperationRequest');
    expect(Object.keys(submit.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '413', '422']));
    const status = doc.paths['/api/v1/operations/{ticket}']!.get;
    expect(status.parameters.find((p: { name: string }) => p.name === 'ticket').schema.pattern).toBe(TICKET_PATTERN);
    const queues = doc.paths['/api/v1/queues']!.get;
    expect(JSON.stringify(queues.responses['200'])).toMatch(/QueueDepths|waiting/);
  });

  it('is the committed docs/openapi.json, whatever the settings', async () => {
    const committed = JSON.parse(await readFile(DOCUMENT_FILE, 'utf8'));
    expect(doc, `the served document differs from docs/openapi.json: run \`${REGENERATE}\``).toEqual(committed);
  });

  it('answers errors as the document says: problem+json, with the documented status', async () => {
    const missing = await fetch(`${stack.url}/api/v1/operations/no-such-ticket`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(doc.paths['/api/v1/operations/{ticket}']!.get.responses['404'].content['application/problem+json']).toBeDefined();
    expect(await missing.json()).toMatchObject({ code: 'KW_ERR_NOT_FOUND', status: 404, instance: '/api/v1/operations/no-such-ticket' });
  });

  it('has a browsable page at /docs', async () => {
    const response = await fetch(`${stack.url}/docs`, { redirect: 'follow' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain('swagger');
  });
});
