/**
 * README's "first five minutes", run as written: the server block (`npm start`; `npm ci` has been
 * done for the tests already and is not run again under them), then each command of the client
 * block in a shell, checking what its comment promises (`# prints X`, `# exits with N`, else exit 0).
 * Only the port and the state directory are moved, so the run never meets another test's.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

function block(marker: string): string[] {
  const start = readme.indexOf(`<!-- first-five-minutes:${marker} -->`);
  if (start < 0) throw new Error(`README.md has no first-five-minutes:${marker} block`);
  const body = readme.slice(readme.indexOf('```sh\n', start) + 6, readme.indexOf('```\n', readme.indexOf('```sh\n', start) + 6));
  return body.split('\n').filter((line) => line.trim() !== '');
}

describe('README: the first five minutes', () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'kw-first-minutes-'));
  // The work dir is moved under it: scripts run as another user when the tests run as root, and
  // must get through to their workspace, as they do under the default $TMPDIR/kube-worker.
  chmodSync(stateDir, 0o711);
  let env: Record<string, string>;
  let server: ReturnType<typeof spawn>;

  beforeAll(async () => {
    const serverLines = block('server');
    expect(serverLines).toEqual(['npm ci', 'npm start']);
    const port = await freePort();
    env = {
      PATH: process.env.PATH!,
      HOME: process.env.HOME ?? os.tmpdir(),
      PORT: String(port),
      KUBE_WORKER_STATE_DIR: stateDir,
      KUBE_WORKER_WORK_DIR: path.join(stateDir, 'work'),
      npm_config_update_notifier: 'false',
    };
    server = spawn('bash', ['-c', serverLines[1]!], { cwd: ROOT, env, detached: true, stdio: 'ignore' });
    const deadline = Date.now() + 240_000;
    while (
      !(await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (server.exitCode !== null || Date.now() > deadline) throw new Error('npm start did not become ready');
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 300_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = once(server, 'exit');
      // Ctrl-C, as the README says; the whole group, as a terminal sends it.
      process.kill(-server.pid!, 'SIGINT');
      const forced = setTimeout(() => process.kill(-server.pid!, 'SIGKILL'), 90_000);
      await exited;
      clearTimeout(forced);
    }
    rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  it('every command of the second terminal does what its comment says', async () => {
    for (const line of block('client')) {
      const [command, comment = ''] = line.split(/ {2,}# /);
      const exits = Number(/^exits with (\d+)/.exec(comment)?.[1] ?? 0);
      const prints = /^prints (.*)$/.exec(comment)?.[1];
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile('bash', ['-c', command!], { cwd: ROOT, env }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }));
      });
      expect(result.code, `${command}\n${result.stderr}`).toBe(exits);
      if (prints) expect(result.stdout, command).toContain(prints);
    }
  }, 300_000);
});
