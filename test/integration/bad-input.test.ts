import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './support/stack.js';

const valid = { pool: 'default', script: { syntax: 'bash', body: 'echo hi' } };
const mib = 1024 * 1024;

describe('bad input is refused with a clear problem and nothing is queued', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ executors: 0 });
  });
  afterAll(() => stack.close());

  it.each<[string, unknown, number, string, RegExp]>([
    ['a body that is not JSON', '{"pool":', 400, 'KW_ERR_VALIDATION', /not valid JSON/],
    ['an empty object', {}, 400, 'KW_ERR_VALIDATION', /pool/],
    ['a missing script body', { pool: 'default', script: { syntax: 'bash' } }, 400, 'KW_ERR_VALIDATION', /body/],
    ['an unknown syntax', { ...valid, script: { syntax: 'cobol', body: 'x' } }, 400, 'KW_ERR_VALIDATION', /syntax/],
    ['an unknown property', { ...valid, colour: 'blue' }, 400, 'KW_ERR_VALIDATION', /unknown property "colour"/],
    ['a ticket with a slash', { ...valid, ticket: 'a/b' }, 400, 'KW_ERR_VALIDATION', /ticket/],
    ['a ticket of 64 characters', { ...valid, ticket: 'a'.repeat(64) }, 400, 'KW_ERR_VALIDATION', /ticket/],
    ['a negative timeout', { ...valid, timeoutSeconds: -1 }, 400, 'KW_ERR_VALIDATION', /timeoutSeconds/],
    ['a script over 1 MiB', { ...valid, script: { syntax: 'bash', body: 'x'.repeat(mib + 1) } }, 413, 'KW_ERR_TOO_LARGE', /1 MiB/],
    ['a body far over the limit', { ...valid, script: { syntax: 'bash', body: 'x'.repeat(3 * mib) } }, 413, 'KW_ERR_TOO_LARGE', /1 MiB/],
    ['an unknown pool', { ...valid, pool: 'gpu' }, 422, 'KW_ERR_UNKNOWN_POOL', /"gpu" is not served here; this worker serves "default"/],
    ['a docker package', { ...valid, packages: [{ type: 'docker', image: 'nginx:1' }] }, 422, 'KW_ERR_DOCKER_UNSUPPORTED', /no Docker/],
    ['an inline execution container', { ...valid, container: { build: { dockerfile: 'FROM alpine' } } }, 422, 'KW_ERR_DOCKER_UNSUPPORTED', /container.build/],
    ['a docker requirement', { ...valid, requires: ['docker'] }, 422, 'KW_ERR_DOCKER_UNSUPPORTED', /Docker/],
    ['an invalid cpu quantity', { ...valid, resources: { requests: { cpu: 'lots' } } }, 422, 'KW_ERR_INVALID_QUANTITY', /resources.requests.cpu: "lots"/],
    ['a request above its limit', { ...valid, resources: { requests: { memory: '2Gi' }, limits: { memory: '1Gi' } } }, 422, 'KW_ERR_INVALID_QUANTITY', /above its limit/],
    ['an impossible image', { ...valid, container: { image: 'Not A Valid/Image' } }, 422, 'KW_ERR_INVALID_IMAGE', /container.image/],
    ['an image given as a URL', { ...valid, container: { image: 'https://ghcr.io/acme/tools:1' } }, 422, 'KW_ERR_INVALID_IMAGE', /URL/],
    ['a file escaping its folder', { ...valid, files: [{ name: '../etc/passwd', content: '' }] }, 422, 'KW_ERR_INVALID_FILE', /inside the workspace/],
    ['an absolute file path', { ...valid, files: [{ name: '/etc/passwd', content: '' }] }, 422, 'KW_ERR_INVALID_FILE', /relative path/],
    ['file content that is not base64', { ...valid, files: [{ name: 'a.txt', content: 'not base64!' }] }, 422, 'KW_ERR_INVALID_FILE', /base64/],
  ])('refuses %s', async (_case, body, status, code, detail) => {
    const response = await stack.api('POST', '/api/v1/operations', body);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body.code).toBe(code);
    expect(response.body.detail).toMatch(detail);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const response = await fetch(`${stack.url}/api/v1/operations`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-token-0123456789abcdef', 'content-type': 'text/plain' },
      body: 'echo hi',
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { code: string }).code).toBe('KW_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('rejects bad status queries and tickets', async () => {
    expect((await stack.api('GET', '/api/v1/operations/x?afterSequence=-1')).body.code).toBe('KW_ERR_VALIDATION');
    expect((await stack.api('GET', '/api/v1/operations/x?limit=0')).body.code).toBe('KW_ERR_VALIDATION');
    expect((await stack.api('GET', '/api/v1/operations/-bad-')).status).toBe(400);
    expect((await stack.api('GET', '/api/v1/operations/never-submitted')).status).toBe(404);
    expect((await stack.api('POST', '/api/v1/operations/never-submitted/cancel')).status).toBe(404);
  });

  it('queued nothing for any refused operation', async () => {
    const { body } = await stack.api('GET', '/api/v1/worker');
    expect(body.pools).toEqual(['default']);
    const redisKeys = await import('ioredis').then(async ({ Redis }) => {
      const redis = new Redis(stack.redisUrl);
      const found = await redis.keys(`${stack.config.prefix}:op:*`);
      await redis.quit();
      return found;
    });
    expect(redisKeys).toEqual([]);
  });
});
