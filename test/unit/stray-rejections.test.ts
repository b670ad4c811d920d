import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** Runs a process that installs the handler and then leaves `reason` unhandled; its exit and output. */
async function leaveUnhandled(reason: string): Promise<{ code: number; output: string }> {
  const script = [
    "import { outliveRedisFaults } from './cli/stray-rejections.ts';",
    "import { createLogger } from './core/logger.ts';",
    "outliveRedisFaults(createLogger('info', 'test', 1, 'json'));",
    `void Promise.reject(${reason});`,
    "setTimeout(() => { console.log('still here'); process.exit(0); }, 200);",
  ].join('\n');
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('an unhandled rejection in a server process', () => {
  it('is logged and outlived when it is a Redis connection that failed', async () => {
    const { code, output } = await leaveUnhandled("new Error('Connection is closed.')");
    expect(code).toBe(0);
    expect(output).toContain('going on');
    expect(output).toContain('still here');
  });

  it('ends the process as Node would for anything else', async () => {
    const { code, output } = await leaveUnhandled("new Error('a defect')");
    expect(code).toBe(1);
    expect(output).toContain('a defect');
    expect(output).not.toContain('still here');
  });
});
