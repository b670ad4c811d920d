import { describe, expect, it } from 'vitest';
import { TOKEN, useStack } from './support/stack.js';

const valid = { pool: 'default', script: { syntax: 'bash', body: 'echo hi' } };
const mib = 1024 * 1024;

describe('bad input is refused with a clear problem and nothing is queued', () => {
  const stack = useStack({ executors: 0 });

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
    [
      'a request above its limit',
      { ...valid, resources: { requests: { memory: '2Gi' }, limits: { memory: '1Gi' } } },
      422,
      'KW_ERR_INVALID_QUANTITY',
      /above its limit/,
    ],
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
      const found = await redis.keys(`{${stack.config.prefix}:*}:op:*`);
      await redis.quit();
      return found;
    });
    expect(redisKeys).toEqual([]);
  });
});

describe('a body is read as exactly the JSON it is', () => {
  const stack = useStack({ executors: 0 });

  const post = (body: string | Buffer, contentType = 'application/json'): Promise<Response> =>
    fetch(`${stack.url}/api/v1/operations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': contentType },
      body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
    });
  const problemOf = async (response: Response): Promise<{ code: string; detail: string }> => {
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    return (await response.json()) as { code: string; detail: string };
  };

  it.each(['utf-16', 'iso-8859-1', '"utf-16le"'])('refuses a JSON body said to be charset=%s with 415', async (charset) => {
    const response = await post(JSON.stringify(valid), `application/json; charset=${charset}`);
    expect(response.status).toBe(415);
    const problem = await problemOf(response);
    expect(problem.code).toBe('KW_ERR_UNSUPPORTED_MEDIA_TYPE');
    expect(problem.detail).toContain('UTF-8');
  });

  it.each([
    ['utf-8', 1],
    ['UTF-8', 2],
    ['"utf-8"', 3],
  ])('accepts charset=%s', async (charset, n) => {
    expect((await post(JSON.stringify({ ...valid, ticket: `charset-${n}` }), `application/json; charset=${charset}`)).status).toBe(202);
  });

  it('refuses a body that is not valid UTF-8 with 400, rather than run it with U+FFFD in it', async () => {
    const bytes = Buffer.concat([Buffer.from('{"pool":"default","script":{"syntax":"bash","body":"echo '), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
    const response = await post(bytes);
    expect(response.status).toBe(400);
    expect(await problemOf(response)).toMatchObject({ code: 'KW_ERR_VALIDATION', detail: 'the body is not valid UTF-8; JSON must be sent as UTF-8' });
  });

  it.each<[string, string, string]>([
    ['at the top', '{"pool":"default","pool":"gpu","script":{"syntax":"bash","body":"x"}}', 'body: the key "pool" is given twice'],
    ['in an object', '{"pool":"default","script":{"syntax":"bash","body":"x","body":"y"}}', 'body.script: the key "body" is given twice'],
    [
      'among the variables',
      '{"pool":"default","script":{"syntax":"bash","body":"x"},"variables":{"A":{"value":"1"},"A":{"value":"2"}}}',
      'body.variables: the key "A" is given twice',
    ],
    [
      'in an array',
      '{"pool":"default","script":{"syntax":"bash","body":"x"},"files":[{"name":"a","content":""},{"name":"b","name":"c","content":""}]}',
      'body.files[1]: the key "name" is given twice',
    ],
    ['spelled with an escape', '{"pool":"default","po\\u006fl":"gpu","script":{"syntax":"bash","body":"x"}}', 'body: the key "pool" is given twice'],
  ])('refuses a key given twice %s with 400, saying where', async (_case, body, detail) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(await problemOf(response)).toMatchObject({ code: 'KW_ERR_VALIDATION', detail: expect.stringContaining(detail) });
  });

  it('refuses a "__proto__" key with an accurate 400, not "not valid JSON"', async () => {
    const response = await post('{"pool":"default","script":{"syntax":"bash","body":"x"},"variables":{"__proto__":{"value":"1"}}}');
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem.code).toBe('KW_ERR_VALIDATION');
    expect(problem.detail).toContain('body.variables: "__proto__" cannot be a key');
    expect(problem.detail).not.toContain('not valid JSON');
  });

  it('accepts "constructor" and "prototype" keys: ordinary names, such as variables may have', async () => {
    const response = await post(JSON.stringify({ ...valid, ticket: 'ordinary-names', variables: { constructor: { value: 'c' }, prototype: { value: 'p' } } }));
    expect(response.status).toBe(202);
    // Read as given and judged by the rules (a package needs a URL), not refused as "not valid JSON".
    const nested = await post('{"pool":"default","script":{"syntax":"bash","body":"x"},"packages":[{"type":"NuGet","id":"x","constructor":{"prototype":{}}}]}');
    expect(nested.status).toBe(422);
    expect((await problemOf(nested)).code).toBe('KW_ERR_INVALID_PACKAGE');
  });
});
