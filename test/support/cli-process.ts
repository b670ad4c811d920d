/**
 * The product's CLI (`dispatcher`, `executor`) in a process of its own, started as an operator starts
 * it, so that a test can kill it for real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface CliChild {
  process: ChildProcess;
  /** What it printed on stdout and stderr (only the end, when started with `keepOutput`). */
  output(): string;
  exited: Promise<number | null>;
}

/**
 * `env` is all it gets besides PATH and HOME. `keepOutput`: characters kept, for a process that logs
 * a flood. `user`: the uid and gid it runs as, when not the test's own.
 */
export function spawnCli(
  command: 'dispatcher' | 'executor',
  env: Record<string, string>,
  keepOutput = Infinity,
  user?: { uid: number; gid: number },
): CliChild {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), command], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...user,
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output += chunk.toString();
    if (output.length > 2 * keepOutput) output = output.slice(-keepOutput);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { process: child, output: () => output, exited };
}

/** Waits until `ready`; if the process exits first or `withinMs` passes, kills it (never left running behind a failed test) and throws. */
export async function waitUntilStarted(what: string, cli: CliChild, ready: () => boolean | Promise<boolean>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await ready())) {
    if (cli.process.exitCode !== null || Date.now() > deadline) {
      cli.process.kill('SIGKILL');
      throw new Error(`${what} did not start:\n${cli.output().slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether a dispatcher answers its health check at `url`. */
export async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}
