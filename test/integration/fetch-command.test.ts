/**
 * `kube-worker fetch`, as a script pod's init container runs it: it fetches a plan's packages into
 * a folder, printing the lines the operation's log takes, and exits 1 with the reason when one
 * cannot be fetched.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FetchPlan } from '../../executor/packages/fetch-plan.js';
import { sha256, tar } from '../support/archives.js';
import { startPackageServer, type PackageServer } from '../support/package-server.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
let feed: PackageServer;
let dir: string;

beforeAll(async () => {
  feed = await startPackageServer();
  dir = await mkdtemp(path.join(os.tmpdir(), 'kw-fetch-'));
  feed.files.set('app.tar.gz', await tar([{ name: 'hello.txt', content: 'hello\n' }], true));
});
afterAll(async () => {
  await feed?.close();
  await rm(dir, { recursive: true, force: true });
});

async function fetch(plan: FetchPlan, into: string): Promise<{ code: number; stdout: string }> {
  const planFile = path.join(dir, `${path.basename(into)}.json`);
  await writeFile(planFile, JSON.stringify(plan));
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'fetch', planFile, into], { cwd: ROOT, env: { PATH: process.env.PATH } });
    return { code: 0, stdout };
  } catch (error) {
    return { code: (error as { code: number }).code, stdout: (error as { stdout: string }).stdout };
  }
}

it('fetches and unpacks the packages of a plan into the folder', async () => {
  const into = path.join(dir, 'ok');
  const body = feed.files.get('app.tar.gz')!;
  const result = await fetch(
    {
      sources: [`${feed.url}/files/`],
      maxBytes: 1e6,
      packages: [{ name: 'app', url: `${feed.url}/files/app.tar.gz`, sha256: sha256(body), format: 'tar.gz', headers: { 'X-Key': 'k-123' } }],
    },
    into,
  );
  expect(result.code).toBe(0);
  expect(await readFile(path.join(into, 'app', 'hello.txt'), 'utf8')).toBe('hello\n');
  expect(result.stdout).toMatch(
    /^Downloading package app from http:\/\/127\.0\.0\.1:\d+\/files\/app\.tar\.gz\nDownloaded package app: .* SHA-256 verified\nUnpacked package app \(tar\.gz\): 1 file, 6 bytes\n$/,
  );
  expect(result.stdout).not.toContain('k-123');
  expect(feed.requests.at(-1)!.headers['x-key']).toBe('k-123');
});

it('exits 1 with the reason when a package cannot be fetched', async () => {
  const result = await fetch(
    {
      sources: [`${feed.url}/files/`],
      maxBytes: 1e6,
      packages: [{ name: 'gone', url: `${feed.url}/files/gone.zip`, sha256: 'f'.repeat(64), format: 'zip', headers: {} }],
    },
    path.join(dir, 'failed'),
  );
  expect(result.code).toBe(1);
  expect(result.stdout.trim().split('\n').at(-1)).toMatch(/^Package gone: http:\/\/127\.0\.0\.1:\d+\/files\/gone\.zip answered HTTP 404/);
});
