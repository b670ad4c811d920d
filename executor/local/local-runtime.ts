/**
 * The local runtime: each operation is a child process of the executor, in its own process group
 * and private workspace. It is the embedded default, so the whole product runs on one machine
 * without a cluster. A script it was running when its executor died cannot be found again, so it
 * does not adopt: such an operation fails as ExecutorLost instead of running twice.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { LineSplitter } from '../output/line-splitter.js';
import type { RunContext, RunOutcome, Runtime, StopReason } from '../runtime.js';
import { INTERPRETERS } from '../interpreters.js';
import { outcomes } from '../outcomes.js';
import { createWorkspace } from './workspace.js';

export interface LocalRuntimeOptions {
  /** Root of the per-operation workspaces. */
  workDir: string;
  /** Environment every script starts from (PATH, HOME, LANG…); the operation's variables go on top. */
  baseEnv: Record<string, string>;
  /** Time between the polite SIGTERM and the SIGKILL when a script is stopped. */
  killGraceMs?: number;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

export class LocalRuntime implements Runtime {
  readonly name = 'local';
  readonly handsBackOnShutdown = false;

  constructor(private readonly options: LocalRuntimeOptions) {}

  async run(context: RunContext): Promise<RunOutcome> {
    const { request, output } = context;
    const interpreter = INTERPRETERS[request.script.syntax];
    const workspace = await createWorkspace(this.options.workDir, context.ticket, request, interpreter.scriptFile);
    try {
      const env: Record<string, string> = { ...this.options.baseEnv, KUBE_WORKER_TICKET: context.ticket, KUBE_WORKER_WORKSPACE: workspace.dir };
      for (const [name, variable] of Object.entries(request.variables ?? {})) env[name] = variable.value;
      const child = spawn(interpreter.command, [...interpreter.flags, workspace.scriptPath, ...(request.arguments ?? [])], {
        cwd: workspace.dir,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stdout = new LineSplitter((line, dropped) => output.line('stdout', line, undefined, undefined, dropped));
      const stderr = new LineSplitter((line, dropped) => output.line('stderr', line, undefined, undefined, dropped));
      child.stdout.on('data', (chunk: Buffer) => stdout.write(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.write(chunk));

      let stopped: StopReason | 'timeout' | undefined;
      const stop = (reason: StopReason | 'timeout'): void => {
        if (stopped || child.pid === undefined) return;
        stopped = reason;
        killGroup(child.pid, 'SIGTERM');
        setTimeout(() => killGroup(child.pid!, 'SIGKILL'), this.options.killGraceMs ?? 1000).unref();
      };
      const onAbort = (): void => stop(context.signal.reason as StopReason);
      const timer = setTimeout(() => stop('timeout'), context.timeoutSeconds * 1000);
      context.signal.addEventListener('abort', onAbort, { once: true });
      if (context.signal.aborted) onAbort();

      const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: NodeJS.ErrnoException }>((resolve) => {
        child.once('error', (error) => resolve({ error }));
        child.once('spawn', () => void context.started());
        child.once('exit', (code, signal) => {
          // Background processes the script left behind still hold its pipes; end them with it.
          if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
          child.once('close', () => resolve({ code, signal }));
        });
      });
      clearTimeout(timer);
      context.signal.removeEventListener('abort', onAbort);
      stdout.end();
      stderr.end();

      if ('error' in ended) {
        const missing = ended.error.code === 'ENOENT';
        return outcomes.runtimeError(
          missing
            ? `${interpreter.command} is not installed on this executor, so ${request.script.syntax} scripts cannot run here: install it or send the operation to a pool whose executors have it`
            : `could not start ${interpreter.command}: ${ended.error.message}`,
        );
      }
      if (stopped === 'timeout') return outcomes.deadlineExceeded(context.timeoutSeconds);
      if (stopped === 'cancel') return outcomes.cancelled('running');
      if (stopped === 'shutdown') return outcomes.shutDown();
      const exitCode = ended.code ?? 128 + (ended.signal ? constants.signals[ended.signal] : 0);
      return exitCode === 0 ? outcomes.succeeded() : outcomes.scriptFailed(exitCode, ended.signal ?? undefined);
    } finally {
      await workspace.remove();
    }
  }

  async close(): Promise<void> {}
}
