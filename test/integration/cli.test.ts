import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TOKEN, type Stack, useStack } from './support/stack.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

async function cli(stack: Stack, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, KUBE_WORKER_URL: stack.url, KUBE_WORKER_API_TOKEN: TOKEN, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the kube-worker CLI', () => {
  const stack = useStack();

  it('submit --wait follows the log and exits with the operation exit code', async () => {
    const result = await cli(stack, [
      'submit',
      'echo "hello $WHO"; echo "secret is $TOKEN_VALUE"; exit 7',
      '--var',
      'WHO=world',
      '--secret',
      'TOKEN_VALUE=abc123xyz',
      '--wait',
    ]);
    expect(result.code).toBe(7);
    expect(result.stdout).toContain('hello world');
    expect(result.stdout).toContain('secret is ********');
    expect(result.stdout).not.toContain('abc123xyz');
    expect(result.stderr).toMatch(/failed \(exit code 7\)/);
    // Not a terminal: plain lines only, for scripts to read.
    expect(result.stderr).toMatch(/^» \S+ queued\n/);
    expect(result.stderr).not.toContain('\x1b[');
  });

  it('submit --wait on a terminal keeps a status line with the state, why it is pending, and the time', async () => {
    // An operation that has the pool's mutex to itself makes the next one wait, pending, until released.
    const release = path.join(os.tmpdir(), `kw-release-${Date.now()}`);
    const holder = await stack.submit({ script: { syntax: 'bash', body: `while [ ! -f ${release} ]; do sleep 0.1; done` }, isolation: { level: 'full' } });
    await stack.waitForState(holder, ['running']);
    const command = `${process.execPath} --import tsx cli/main.ts submit 'echo from the terminal' --ticket cli-tty-1 --wait`;
    // script(1) gives the command a pseudo-terminal; -e passes its exit status on.
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, KUBE_WORKER_URL: stack.url, KUBE_WORKER_API_TOKEN: TOKEN, TERM: 'dumb' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = once(child, 'exit');
    await expect
      .poll(() => stdout, { timeout: 45_000, interval: 100 })
      // eslint-disable-next-line no-control-regex -- the terminal's erase-line sequence is what is checked
      .toMatch(/\r\x1b\[2K» cli-tty-1 pending: Waiting for shared use of mutex "pool:default"… \(\d+s\)/);
    writeFileSync(release, '');
    expect((await exited)[0]).toBe(0);
    rmSync(release);
    expect(stdout).toContain('from the terminal');
    expect(stdout).toMatch(/» cli-tty-1 succeeded \(exit code 0\) after \d+s\r?\n/);
  });

  it("logs on a terminal shows a script's control characters instead of obeying them; into a pipe it passes them on", async () => {
    // A script that goes back up a line, erases it and prints the worker's own outcome line.
    const ticket = await stack.submit({
      script: { syntax: 'bash', body: "printf 'working\\r\\033[1A\\033[2K» Succeeded\\n'; printf '\\033]0;title\\007x\\ty\\n' >&2" },
    });
    await stack.waitUntilDone(ticket);
    const child = spawn('script', ['-qec', `${process.execPath} --import tsx cli/main.ts logs ${ticket}`, '/dev/null'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, KUBE_WORKER_URL: stack.url, KUBE_WORKER_API_TOKEN: TOKEN, TERM: 'dumb' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let terminal = '';
    child.stdout.on('data', (chunk: Buffer) => (terminal += chunk.toString()));
    expect((await once(child, 'exit'))[0]).toBe(0);
    expect(terminal).toContain('working^M^[[1A^[[2K» Succeeded');
    expect(terminal).toContain('^[]0;title^Gx\ty');
    // eslint-disable-next-line no-control-regex -- no ESC, BEL or lone CR of the script's may reach the terminal
    expect(terminal).not.toMatch(/\x1b|\x07|\r(?!\n)/);
    const piped = await cli(stack, ['logs', ticket]);
    expect(piped.stdout).toBe('working\r\x1b[1A\x1b[2K» Succeeded\n');
  });

  it('queues prints the depth of each pool', async () => {
    const { body } = await stack.api('GET', '/api/v1/queues');
    const depth = body.pools[0];
    const result = await cli(stack, ['queues']);
    expect(result.code).toBe(0);
    const [header, row] = result.stdout.trimEnd().split('\n');
    expect(header!.split(/\s+/)).toEqual(['POOL', 'WAITING', 'ACTIVE', 'COMPLETED', 'FAILED', 'DELAYED']);
    expect(row!.split(/\s+/)).toEqual(['default', ...['waiting', 'active', 'completed', 'failed', 'delayed'].map((s) => String(depth[s]))]);
    expect(depth.completed + depth.failed).toBeGreaterThan(0);
  });

  it('submit without --wait prints the ticket; status and cancel read it', async () => {
    const submitted = await cli(stack, ['submit', 'sleep 30', '--ticket', 'cli-ticket-1']);
    expect(submitted.stdout.trim()).toBe('cli-ticket-1');
    await stack.waitForState('cli-ticket-1', ['running']);
    const cancelled = await cli(stack, ['cancel', 'cli-ticket-1']);
    expect(cancelled.code).toBe(0);
    await stack.waitUntilDone('cli-ticket-1');
    const status = await cli(stack, ['status', 'cli-ticket-1']);
    expect(status.code).toBe(0);
    const [header, row] = status.stdout.split('\n');
    expect(header).toMatch(/^TICKET +POOL +STATE +EXIT CODE +REASON +AGE +DURATION$/);
    expect(row).toMatch(/^cli-ticket-1 +default +cancelled +-43 +Cancelled +\d+s +\d+s$/);
    // Its timeline: the first moment's date-time, then how long each step took.
    const timeline = status.stdout.split('Timeline:\n')[1]!.split('\n\n')[0]!.split('\n');
    expect(timeline).toEqual([
      expect.stringMatching(/^ {2}accepted +\d{4}-\d\d-\d\dT[\d:.]+Z$/),
      expect.stringMatching(/^ {2}queued +\+\d+ms$/),
      expect.stringMatching(/^ {2}picked by an executor +\+[\d.]+m?s$/),
      expect.stringMatching(/^ {2}started +\+[\d.]+m?s$/),
      expect.stringMatching(/^ {2}script ended +\+[\d.]+m?s$/),
      expect.stringMatching(/^ {2}result recorded +\+[\d.]+m?s +[\d.]+m?s in all$/),
    ]);
  });

  it("status --output json prints the API's status document, for scripts", async () => {
    const ticket = await stack.submit({ script: { syntax: 'bash', body: 'echo one; echo two >&2' } });
    await stack.waitUntilDone(ticket);
    const { body } = await stack.api('GET', `/api/v1/operations/${ticket}?afterSequence=0&limit=10000`);
    const status = await cli(stack, ['status', ticket, '--output', 'json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual(body);
    const logs = await cli(stack, ['logs', ticket]);
    // The script's stdout on stdout; its stderr and the worker's own lines (») on stderr.
    expect(logs.stdout).toBe('one\n');
    expect(logs.stderr).toMatch(/^two$/m);
    expect(logs.stderr).toMatch(/^» Succeeded$/m);
  });

  it('exits with a code of its own for each kind of failure, and one line saying what failed', async () => {
    const refused = await cli(stack, ['submit', 'echo hi', '--pool', 'nowhere']);
    expect(refused).toMatchObject({ code: 6, stdout: '' });
    expect(refused.stderr).toMatch(/^kube-worker: .*"nowhere" is not served here.*\n$/);
    const badToken = await cli(stack, ['queues'], { KUBE_WORKER_API_TOKEN: 'not-the-token-0123456789' });
    expect(badToken.code).toBe(5);
    expect(badToken.stderr).toMatch(/^kube-worker: .*KUBE_WORKER_API_TOKEN.*\n$/);
    const missing = await cli(stack, ['status', 'no-such-ticket']);
    expect(missing.code).toBe(4);
    const unreachable = await cli(stack, ['submit', 'true', '--wait'], { KUBE_WORKER_URL: 'http://127.0.0.1:1' });
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/^kube-worker: cannot reach kube-worker at http:\/\/127\.0\.0\.1:1 .*\n$/);
    const unknown = await cli(stack, ['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^kube-worker: unknown command "frobnicate"; .*kube-worker --help\)\n$/);
  });

  describe('Ctrl-C during submit --wait', () => {
    async function interrupted(ticket: string, extra: string[]): Promise<{ code: number | null; stderr: string }> {
      const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'submit', 'sleep 60', '--ticket', ticket, '--wait', ...extra], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, KUBE_WORKER_URL: stack.url, KUBE_WORKER_API_TOKEN: TOKEN },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = once(child, 'exit');
      await stack.waitForState(ticket, ['running']);
      await expect.poll(() => stderr, { timeout: 30_000 }).toContain(`» ${ticket}`);
      child.kill('SIGINT');
      const [code] = await exited;
      return { code, stderr };
    }

    it('detaches, leaves the operation running, and says how to follow or cancel it', async () => {
      const { code, stderr } = await interrupted('cli-detach-1', []);
      expect(code).toBe(130);
      expect(stderr).toContain('kube-worker logs cli-detach-1 --follow');
      expect(stderr).toContain('kube-worker cancel cli-detach-1');
      const { body } = await stack.api('GET', '/api/v1/operations/cli-detach-1');
      expect(body.state).toBe('running');
      await stack.api('POST', '/api/v1/operations/cli-detach-1/cancel');
      await stack.waitUntilDone('cli-detach-1');
    });

    it('with --cancel-on-interrupt, cancels the operation and exits with its code', async () => {
      const { code, stderr } = await interrupted('cli-cancel-1', ['--cancel-on-interrupt']);
      expect(stderr).toContain('cancelling cli-cancel-1');
      expect(stderr).toMatch(/» cli-cancel-1 cancelled \(exit code -43\)/);
      expect(code).toBe(-43 & 0xff);
      expect((await stack.waitUntilDone('cli-cancel-1')).state).toBe('cancelled');
    });
  });
});
