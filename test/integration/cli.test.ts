import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, TOKEN, type Stack } from './support/stack.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

async function cli(stack: Stack, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, KUBE_WORKER_URL: stack.url, KUBE_WORKER_API_TOKEN: TOKEN },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the kube-worker CLI', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('submit --wait follows the log and exits with the operation exit code', async () => {
    const result = await cli(stack, ['submit', 'echo "hello $WHO"; echo "secret is $TOKEN_VALUE"; exit 7', '--var', 'WHO=world', '--secret', 'TOKEN_VALUE=abc123xyz', '--wait']);
    expect(result.code).toBe(7);
    expect(result.stdout).toContain('hello world');
    expect(result.stdout).toContain('secret is ********');
    expect(result.stdout).not.toContain('abc123xyz');
    expect(result.stderr).toMatch(/failed \(exit code 7\)/);
  });

  it('submit without --wait prints the ticket; status and cancel read it', async () => {
    const submitted = await cli(stack, ['submit', 'sleep 30', '--ticket', 'cli-ticket-1']);
    expect(submitted.stdout.trim()).toBe('cli-ticket-1');
    await stack.waitForState('cli-ticket-1', ['running']);
    const cancelled = await cli(stack, ['cancel', 'cli-ticket-1']);
    expect(cancelled.code).toBe(0);
    await stack.waitUntilDone('cli-ticket-1');
    const status = await cli(stack, ['status', 'cli-ticket-1']);
    expect(JSON.parse(status.stdout.slice(0, status.stdout.indexOf('\n}') + 2))).toMatchObject({ state: 'cancelled', exitCode: -43 });
  });

  it('explains what is wrong with a refused operation and a bad command', async () => {
    const refused = await cli(stack, ['submit', 'echo hi', '--pool', 'nowhere']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('"nowhere" is not served here');
    const unknown = await cli(stack, ['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });
});
