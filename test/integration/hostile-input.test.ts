import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bash, startStack, TOKEN, type Stack } from './support/stack.js';

const valid = { pool: 'default', script: { syntax: 'bash', body: 'echo hi' } };
const nested = (depth: number, leaf: string): string => '['.repeat(depth) + leaf + ']'.repeat(depth);

/** Sends a raw body, so that what JSON.stringify cannot produce (duplicate keys, depth) can be sent. */
async function post(stack: Stack, route: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${stack.url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

describe('hostile input never gets a 5xx and never breaks the worker', () => {
  let stack: Stack;
  let finished: string;
  beforeAll(async () => {
    stack = await startStack();
    finished = await stack.submit(bash('echo done'));
    await stack.waitUntilDone(finished);
  });
  afterAll(() => stack.close());

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['a variable name with =', { 'A=B': { value: 'x' } }, 'KW_ERR_INVALID_VARIABLE', /"A=B": a name cannot contain "="/],
    ['an empty variable name', { '': { value: 'x' } }, 'KW_ERR_INVALID_VARIABLE', /empty name/],
    ['a variable name with NUL', { 'A\u0000B': { value: 'x' } }, 'KW_ERR_INVALID_VARIABLE', /NUL/],
    ['a variable name with a line break', { 'A\nB': { value: 'x' } }, 'KW_ERR_INVALID_VARIABLE', /a name must start with a letter/],
    ['a variable of the product', { KUBE_WORKER_TICKET: { value: 'other' } }, 'KW_ERR_INVALID_VARIABLE', /kube-worker sets/],
    ['LD_PRELOAD', { LD_PRELOAD: { value: '/tmp/evil.so' } }, 'KW_ERR_INVALID_VARIABLE', /loader/],
    ['PATH', { PATH: { value: '/nowhere' } }, 'KW_ERR_INVALID_VARIABLE', /PATH/],
    ['a variable value with NUL', { SECRET: { value: 'hidden\u0000value', sensitive: true } }, 'KW_ERR_INVALID_VARIABLE', /NUL/],
    ['a variable of 128 KiB', { BIG: { value: 'x'.repeat(128 * 1024) } }, 'KW_ERR_INVALID_VARIABLE', /131072 bytes/],
  ])('refuses %s with 422 and the reason', async (_case, variables, code, detail) => {
    const response = await stack.api('POST', '/api/v1/operations', { ...valid, variables });
    expect(response.status).toBe(422);
    expect(response.body.code).toBe(code);
    expect(response.body.detail).toMatch(detail);
    expect(JSON.stringify(response.body)).not.toContain('hidden');
  });

  it.each<[string, string, number]>([
    ['a number for a variable value', JSON.stringify({ ...valid, variables: { A: { value: 5 } } }), 400],
    ['a number for a script body', JSON.stringify({ ...valid, script: { syntax: 'bash', body: 0.5 } }), 400],
    ['a number for a ticket', JSON.stringify({ ...valid, ticket: 12 }), 400],
    ['a boolean for a pool', JSON.stringify({ ...valid, pool: true }), 400],
    ['a string for a timeout', JSON.stringify({ ...valid, timeoutSeconds: '60' }), 400],
    ['an object for an argument', JSON.stringify({ ...valid, arguments: [{}] }), 400],
    ['a variable whose value is not an object', JSON.stringify({ ...valid, variables: { A: 'x' } }), 400],
    ['an argument with NUL', JSON.stringify({ ...valid, arguments: ['a\u0000b'] }), 422],
    ['duplicate keys (refused, not resolved)', '{"pool":"nowhere","pool":"default","script":{"syntax":"bash","body":"echo dup"}}', 400],
    ['a deeply nested package', `{"pool":"default","script":{"syntax":"bash","body":"x"},"packages":[{"type":"zip","extra":${nested(20_000, '1')}}]}`, 400],
    ['a deeply nested container build', `{"pool":"default","script":{"syntax":"bash","body":"x"},"container":{"build":${nested(20_000, '1')}}}`, 400],
    ['a body that is only deep nesting', nested(100_000, ''), 400],
    ['a __proto__ key', '{"pool":"default","script":{"syntax":"bash","body":"x"},"__proto__":{"polluted":true}}', 400],
    ['a constructor.prototype key', '{"pool":"default","script":{"syntax":"bash","body":"x"},"constructor":{"prototype":{"polluted":true}}}', 400],
    [
      'unicode everywhere',
      JSON.stringify({ ...valid, taskId: '🚀\u202e\uffff', script: { syntax: 'bash', body: 'echo "ünï ✓"' }, variables: { ÄÖ: { value: 'x' } } }),
      422,
    ],
    ['a lone surrogate', '{"pool":"default","taskId":"\\ud800","script":{"syntax":"bash","body":"echo \\udfff"}}', 202],
    ['null where an object belongs', JSON.stringify({ ...valid, script: null }), 400],
    ['an array for a body', '[]', 400],
    ['a number for a body', '42', 400],
    ['the string null', 'null', 400],
    ['an empty body', '', 400],
    ['a NUL byte in the JSON text', `{"pool":"default"\u0000}`, 400],
    ['a timeout of 1e400', '{"pool":"default","script":{"syntax":"bash","body":"x"},"timeoutSeconds":1e400}', 400],
    ['a fractional timeout', '{"pool":"default","script":{"syntax":"bash","body":"x"},"timeoutSeconds":1.5}', 400],
  ])('answers %s without a 5xx', async (_case, body, status) => {
    const response = await post(stack, '/api/v1/operations', body);
    expect(response.status).toBe(status);
    if (status >= 400) expect(response.body.code).toMatch(/^KW_ERR_/);
  });

  it.each([
    ['afterSequence beyond 2^64', '?afterSequence=18446744073709551617'],
    ['afterSequence beyond the safest integer', '?afterSequence=9007199254740993'],
    ['afterSequence of 1e400', '?afterSequence=1e400'],
    ['afterSequence that is not a number', '?afterSequence=abc'],
    ['a fractional afterSequence', '?afterSequence=1.5'],
    ['a negative afterSequence', '?afterSequence=-1'],
    ['afterSequence given twice', '?afterSequence=1&afterSequence=2'],
    ['a limit that is not a number', '?limit=lots'],
    ['a limit of 1e400', '?limit=1e400'],
    ['a limit of 2^64', '?limit=18446744073709551616'],
    ['an empty limit', '?limit='],
  ])('refuses a status query with %s with 400', async (_case, query) => {
    const response = await stack.api('GET', `/api/v1/operations/${finished}${query}`);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('KW_ERR_VALIDATION');
  });

  it.each([
    ['afterSequence beyond 2^64', '?afterSequence=18446744073709551617'],
    ['follow that is not a boolean', '?follow=maybe'],
    ['afterSequence of -1e400', '?afterSequence=-1e400'],
    ['afterSequence of 1e400', '?afterSequence=1e400'],
  ])('refuses a log stream with %s with 400', async (_case, query) => {
    const response = await stack.api('GET', `/api/v1/operations/${finished}/logs${query}`);
    expect(response.status).toBe(400);
  });

  it('ignores a Last-Event-ID it cannot use and streams from the start', async () => {
    for (const id of ['18446744073709551617', '1e400', '-5', 'abc', '\u00e9']) {
      const response = await fetch(`${stack.url}/api/v1/operations/${finished}/logs`, {
        headers: { authorization: `Bearer ${TOKEN}`, 'last-event-id': encodeURIComponent(id) },
      });
      expect(response.status, id).toBe(200);
      const text = await response.text();
      expect(text, id).toContain('event: end');
      expect(text, id).not.toContain('event: error');
    }
  });

  it.each([
    ['unicode', encodeURIComponent('tïcket✓')],
    ['a NUL', '%00'],
    ['a long ticket', 'a'.repeat(10_000)],
    ['a broken escape', '%E0%A4%A'],
    ['dots', '..'],
  ])('refuses a ticket with %s in the path without a 5xx', async (_case, ticket) => {
    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/logs'],
      ['POST', '/cancel'],
      ['DELETE', ''],
    ] as const) {
      const response = await stack.api(method, `/api/v1/operations/${ticket}${suffix}`);
      expect(response.status, `${method} ${suffix}`).toBeGreaterThanOrEqual(400);
      expect(response.status, `${method} ${suffix}`).toBeLessThan(500);
    }
  });

  it('answers a ticket too long to route with a 414 problem that does not quote the path', async () => {
    const ticket = `secret-looking-${'a'.repeat(200)}`;
    for (const [method, suffix] of [
      ['GET', ''],
      ['POST', '/cancel'],
      ['DELETE', ''],
    ] as const) {
      const response = await stack.api(method, `/api/v1/operations/${ticket}${suffix}`);
      expect(response.status, method).toBe(414);
      expect(response.headers.get('content-type'), method).toContain('application/problem+json');
      expect(response.body, method).toMatchObject({ status: 414, code: 'KW_ERR_URI_TOO_LONG' });
      expect(JSON.stringify(response.body), method).not.toContain('secret-looking');
    }
  });

  it('answers an unknown route, a wrong method and a huge header without a 5xx', async () => {
    expect((await stack.api('PUT', `/api/v1/operations/${finished}`)).status).toBe(404);
    expect((await stack.api('GET', '/api/v1/nothing-here')).status).toBe(404);
    const huge = await fetch(`${stack.url}/api/v1/queues`, { headers: { authorization: `Bearer ${'x'.repeat(8000)}` } });
    expect(huge.status).toBe(401);
  });

  it('still runs a normal operation afterwards', async () => {
    const status = await stack.waitUntilDone(await stack.submit(bash('echo after all that')));
    expect(status.state).toBe('succeeded');
    expect(status.logs.map((l) => l.text)).toContain('after all that');
  });
});
