/**
 * Packages on the local runtime, fetched from a feed on 127.0.0.1: unpacked into packages/<name>/
 * with a variable naming each, and every way a package can be wrong ending the operation with
 * PackageFailed before its script starts.
 */
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download } from '../../executor/packages/download.js';
import { sha256, tar, zip } from '../support/archives.js';
import { generatedSha256, startPackageServer, type PackageServer } from '../support/package-server.js';
import { bash, startStack, type Stack } from './support/stack.js';
import { deploymentKeys } from '../support/deployment-keys.js';

describe('packages on the local runtime', () => {
  let feed: PackageServer;
  let stack: Stack;
  const lines = (status: { logs: Array<{ stream: string; text: string }> }): string[] => status.logs.map((l) => `${l.stream}:${l.text}`);

  beforeAll(async () => {
    feed = await startPackageServer();
    stack = await startStack({
      env: {
        KUBE_WORKER_PACKAGE_SOURCES: `${feed.url}/files/,${feed.url}/generated/,${feed.url}/slow/,${feed.url}/truncated/,${feed.url}/loop,${feed.url}/redirect`,
      },
    });
    feed.files.set(
      'app.tar.gz',
      await tar(
        [
          { name: 'app/', directory: true },
          { name: 'app/run.sh', content: 'echo app runs\n', mode: 0o755 },
          { name: 'README', content: 'the app\n' },
        ],
        true,
      ),
    );
    feed.files.set(
      'tools.zip',
      zip([
        { name: 'bin/', directory: true },
        { name: 'bin/tool', content: 'tool v1\n' },
        { name: 'latest', link: 'bin/tool' },
      ]),
    );
    feed.files.set('config.json', Buffer.from('{"env":"prod"}\n'));
    feed.files.set(
      'evil.zip',
      zip([
        { name: 'ok.txt', content: 'fine' },
        { name: '../escaped.txt', content: 'out' },
      ]),
    );
    feed.files.set('evil-link.tar', await tar([{ name: 'up', link: '../../..' }]));
    feed.files.set('not-a.zip', Buffer.from('this is no zip at all'));
  });
  afterAll(async () => {
    await stack?.close();
    await feed?.close();
  });

  const pkg = (name: string, file: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    name,
    url: `${feed.url}/files/${file}`,
    sha256: sha256(feed.files.get(file)!),
    ...extra,
  });

  it('unpacks tar.gz and zip, keeps a plain file, and names each folder in a variable', async () => {
    const ticket = await stack.submit(
      bash(
        [
          'cat "$KUBE_WORKER_PACKAGE_APP/README"',
          'sh packages/app/app/run.sh',
          'cat "$KUBE_WORKER_PACKAGE_TOOLS/latest"',
          'cat packages/settings/config.json',
          'test "$KUBE_WORKER_PACKAGE_SETTINGS" = "$PWD/packages/settings" && echo variable ok',
          'ls -A packages',
        ].join('\n'),
        { packages: [pkg('app', 'app.tar.gz'), pkg('tools', 'tools.zip'), pkg('settings', 'config.json')] },
      ),
    );
    const status = await stack.waitUntilDone(ticket);
    expect(status.state, lines(status).join('\n')).toBe('succeeded');
    const log = lines(status);
    expect(log).toEqual(expect.arrayContaining(['stdout:the app', 'stdout:app runs', 'stdout:tool v1', 'stdout:{"env":"prod"}', 'stdout:variable ok']));
    // No download leftovers beside the packages.
    expect(log.filter((l) => l.startsWith('stdout:') && /^stdout:(app|tools|settings)$/.test(l))).toHaveLength(3);
    expect(log.filter((l) => l.startsWith('stdout:.'))).toEqual([]);
    expect(log).toEqual(
      expect.arrayContaining([expect.stringMatching(/^system:Downloading package app from http:\/\/127\.0\.0\.1:\d+\/files\/app\.tar\.gz$/)]),
    );
    expect(log).toEqual(expect.arrayContaining([expect.stringMatching(/^system:Downloaded package app: \d+ bytes in \d+\.\d s \(.*\/s\), SHA-256 verified$/)]));
    expect(log).toEqual(expect.arrayContaining([expect.stringMatching(/^system:Unpacked package tools \(zip\): 2 files, 8 bytes$/)]));
  });

  const failure = async (
    packages: unknown[],
    extra: Record<string, unknown> = {},
  ): Promise<{ message: string; log: string[]; exitCode: number | undefined }> => {
    const ticket = await stack.submit(bash('echo the script ran', { packages, ...extra }));
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('failed');
    expect(status.failure?.reason).toBe('PackageFailed');
    expect(lines(status)).not.toContain('stdout:the script ran');
    return { message: status.failure!.message, log: lines(status), exitCode: status.exitCode };
  };

  it('when the checksum does not match, the operation fails with PackageFailed (-45) and nothing is unpacked', async () => {
    const result = await failure([pkg('app', 'app.tar.gz', { sha256: 'a'.repeat(64) })]);
    expect(result.exitCode).toBe(-45);
    expect(result.message).toMatch(/^Package app: the SHA-256 of the .* downloaded is [0-9a-f]{64}, not a{64} as the operation says; nothing was unpacked$/);
  });

  it('when the feed answers 404, the operation fails with PackageFailed naming the status', async () => {
    const result = await failure([{ name: 'gone', url: `${feed.url}/files/missing.tar.gz`, sha256: 'b'.repeat(64) }]);
    expect(result.message).toMatch(/^Package gone: http:\/\/127\.0\.0\.1:\d+\/files\/missing\.tar\.gz answered HTTP 404/);
  });

  it('a redirect off the allowed sources is not followed', async () => {
    const to = encodeURIComponent('http://127.0.0.2:1/elsewhere.tar.gz');
    const result = await failure([{ name: 'moved', url: `${feed.url}/redirect?to=${to}`, sha256: 'c'.repeat(64) }]);
    expect(result.message).toBe(
      'Package moved: it was redirected to http://127.0.0.2:1/elsewhere.tar.gz, which is not under any package source this worker allows',
    );
  });

  it('a redirect that stays under the allowed sources is followed; the file keeps the name the operation asked for', async () => {
    const to = encodeURIComponent(`${feed.url}/files/config.json`);
    const ticket = await stack.submit(
      bash('cat packages/settings/redirect', {
        packages: [{ name: 'settings', url: `${feed.url}/redirect?to=${to}`, sha256: sha256(feed.files.get('config.json')!), extract: 'none' }],
      }),
    );
    const status = await stack.waitUntilDone(ticket);
    expect(status.state, lines(status).join('\n')).toBe('succeeded');
    expect(lines(status)).toContain('stdout:{"env":"prod"}');
  });

  it('a connection that stops sending mid-download is given up after the idle timeout, saying so', async () => {
    const source = { text: `${feed.url}/stalled/`, origin: feed.url, pathPrefix: '/stalled/', loopback: true };
    const destination = path.join(os.tmpdir(), `kw-stalled-${process.pid}`);
    const progress = { bytes: 0 };
    const attempt = download({
      url: `${feed.url}/stalled/100000`,
      headers: {},
      sources: [source],
      destination,
      maxBytes: 1e6,
      signal: new AbortController().signal,
      progress,
      idleTimeoutMs: 500,
    });
    await expect(attempt).rejects.toThrow(`${feed.url}/stalled/100000 sent nothing for 0.5s`);
    expect(progress.bytes).toBe(50000);
    await rm(destination, { force: true });
  });

  it('a name that resolves to a loopback address is refused unless its source is on a loopback host', async () => {
    // A feed named like any other whose name leads to this machine: the address is checked after the lookup.
    const origin = `http://localhost:${feed.port}`;
    const source = { text: `${origin}/files/`, origin, pathPrefix: '/files/', loopback: false };
    const attempt = download({
      url: `${origin}/files/config.json`,
      headers: {},
      sources: [source],
      destination: path.join(os.tmpdir(), `kw-never-${process.pid}`),
      maxBytes: 1e6,
      signal: new AbortController().signal,
      progress: { bytes: 0 },
    });
    await expect(attempt).rejects.toThrow(`localhost resolves to 127.0.0.1, a loopback address, and the source ${origin}/files/ is not on a loopback host`);
    expect(feed.requests.some((r) => r.path === '/files/config.json' && r.headers.host === `localhost:${feed.port}`)).toBe(false);
  });

  it('refuses packages at submit time when no source is allowed, saying how to allow one; Docker packages keep their 422', async () => {
    const closed = await startStack({ executors: 0 });
    try {
      const refused = await closed.api('POST', '/api/v1/operations', { pool: 'default', ...bash('true', { packages: [pkg('app', 'app.tar.gz')] }) });
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ code: 'KW_ERR_PACKAGE_SOURCE_NOT_ALLOWED', detail: expect.stringContaining('KUBE_WORKER_PACKAGE_SOURCES') });
      const docker = await closed.api('POST', '/api/v1/operations', { pool: 'default', ...bash('true', { packages: [{ type: 'docker', image: 'nginx:1' }] }) });
      expect(docker).toMatchObject({ status: 422, body: { code: 'KW_ERR_DOCKER_UNSUPPORTED' } });
    } finally {
      await closed.close();
    }
  });

  it('a zip with ../ entries is refused and nothing escapes the workspace', async () => {
    const result = await failure([pkg('evil', 'evil.zip')]);
    expect(result.message).toMatch(
      /^Package evil: (the archive entry "\.\.\/escaped\.txt" climbs out of its folder with \.\.|it is not a valid zip archive: invalid relative path: \.\.\/escaped\.txt)$/,
    );
  });

  it('a tar whose link points outside its folder is refused', async () => {
    const result = await failure([pkg('evil', 'evil-link.tar')]);
    expect(result.message).toBe('Package evil: the archive entry "up" links to "../../..", outside its folder');
  });

  it('a file that is not the archive it claims to be fails with PackageFailed', async () => {
    const result = await failure([pkg('broken', 'not-a.zip')]);
    expect(result.message).toMatch(/^Package broken: it is not a valid zip archive: /);
  });

  it('a package larger than KUBE_WORKER_PACKAGE_MAX_BYTES fails before it is all downloaded, whether or not its size is announced', async () => {
    const small = await startStack({
      executors: 0,
      env: { KUBE_WORKER_PACKAGE_SOURCES: `${feed.url}/generated/,${feed.url}/chunked/`, KUBE_WORKER_PACKAGE_MAX_BYTES: '100000' },
    });
    try {
      await small.addExecutor();
      const announced = await small.submit(bash('true', { packages: [{ name: 'big', url: `${feed.url}/generated/200000`, sha256: 'd'.repeat(64) }] }));
      expect((await small.waitUntilDone(announced)).failure).toEqual({
        reason: 'PackageFailed',
        message: 'Package big: it is 200000 bytes, more than the 100000 the operation may still download (KUBE_WORKER_PACKAGE_MAX_BYTES)',
      });
      const chunked = await small.submit(bash('true', { packages: [{ name: 'big', url: `${feed.url}/chunked/${1024 ** 3}`, sha256: 'd'.repeat(64) }] }));
      expect((await small.waitUntilDone(chunked, 15_000)).failure).toEqual({
        reason: 'PackageFailed',
        message: 'Package big: it is larger than the 100000 bytes the operation may still download (KUBE_WORKER_PACKAGE_MAX_BYTES)',
      });
      // Two packages share the limit: each fits, both do not.
      const half = 60_000;
      const two = await small.submit(
        bash('true', { packages: ['one', 'two'].map((name) => ({ name, url: `${feed.url}/generated/${half}`, sha256: generatedSha256(half) })) }),
      );
      expect((await small.waitUntilDone(two)).failure).toEqual({
        reason: 'PackageFailed',
        message: 'Package two: it is 60000 bytes, more than the 40000 the operation may still download (KUBE_WORKER_PACKAGE_MAX_BYTES)',
      });
    } finally {
      await small.close();
    }
  });

  it('a download cut short fails with PackageFailed', async () => {
    const result = await failure([{ name: 'cut', url: `${feed.url}/truncated/100000`, sha256: 'd'.repeat(64) }]);
    expect(result.message).toMatch(/^Package cut: http:\/\/127\.0\.0\.1:\d+\/truncated\/100000 could not be downloaded: /);
  });

  it('a redirect that never ends is given up after 5', async () => {
    const result = await failure([{ name: 'loop', url: `${feed.url}/loop`, sha256: 'd'.repeat(64) }]);
    expect(result.message).toMatch(/^Package loop: http:\/\/127\.0\.0\.1:\d+\/loop redirected more than 5 times$/);
  });

  it('a sensitive header reaches the feed and nothing else: not the log, the status or the queue', async () => {
    const secret = 'feed-api-key-5up3r-s3cr3t';
    const ticket = await stack.submit(
      bash('env; cat packages/settings/config.json; echo "$X_KEY"', {
        packages: [pkg('settings', 'config.json', { headers: { 'X-Api-Key': { value: secret, sensitive: true } } })],
      }),
    );
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('succeeded');
    expect(feed.requests.some((r) => r.headers['x-api-key'] === secret)).toBe(true);
    expect(JSON.stringify(status)).not.toContain(secret);
    // Everything the operation left in Redis: the record, the log, the queue's job.
    const redis = new Redis(stack.redisUrl);
    try {
      let dump = '';
      for (const key of await deploymentKeys(redis, stack.config.prefix)) {
        const type = await redis.type(key);
        if (type === 'string') dump += await redis.get(key);
        if (type === 'hash') dump += JSON.stringify(await redis.hgetall(key));
        if (type === 'list') dump += JSON.stringify(await redis.lrange(key, 0, -1));
        if (type === 'zset') dump += JSON.stringify(await redis.zrange(key, 0, -1));
        if (type === 'stream') dump += JSON.stringify(await redis.xrange(key, '-', '+'));
      }
      expect(dump).toContain(ticket);
      expect(dump).not.toContain(secret);
    } finally {
      await redis.quit();
    }
  });

  it('cancel stops a download and the script never starts', async () => {
    const ticket = await stack.submit(
      bash('echo the script ran', { packages: [{ name: 'slow', url: `${feed.url}/slow/${1024 ** 3}`, sha256: 'e'.repeat(64) }] }),
    );
    await stack.waitFor(ticket, 'downloading', (s) => s.logs.some((l) => l.text.startsWith('Downloading package slow: ')), 20_000);
    await stack.api('POST', `/api/v1/operations/${ticket}/cancel`);
    const status = await stack.waitUntilDone(ticket, 10_000);
    expect(status).toMatchObject({ state: 'cancelled', exitCode: -43, failure: { reason: 'Cancelled', message: 'Cancelled before the script started' } });
  });

  it('the timeout stops a download', async () => {
    const ticket = await stack.submit(
      bash('echo the script ran', { timeoutSeconds: 2, packages: [{ name: 'slow', url: `${feed.url}/slow/${1024 ** 3}`, sha256: 'e'.repeat(64) }] }),
    );
    const status = await stack.waitUntilDone(ticket, 15_000);
    expect(status).toMatchObject({ state: 'failed', exitCode: -44, failure: { reason: 'DeadlineExceeded' } });
    expect(lines(status)).not.toContain('stdout:the script ran');
  });

  it('a package that is not unpacked is kept under the last segment of its URL', async () => {
    const bytes = 3 * 1024 * 1024 + 17;
    const ticket = await stack.submit(
      bash(`wc -c < packages/blob/${bytes}`, { packages: [{ name: 'blob', url: `${feed.url}/generated/${bytes}`, sha256: generatedSha256(bytes) }] }),
    );
    const status = await stack.waitUntilDone(ticket);
    expect(status.state, lines(status).join('\n')).toBe('succeeded');
    expect(lines(status)).toContain(`stdout:${bytes}`);
    expect(lines(status)).toContain(`system:Downloading package blob from ${feed.url}/generated/${bytes}`);
  });
});
