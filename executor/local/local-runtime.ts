/**
 * The local runtime: each operation is a child process of the executor, in its own process group
 * and private workspace. It is the embedded default, so the whole product runs on one machine
 * without a cluster. A script it was running when its executor died is killed by its watchdog
 * (see watchdog.ts), so it does not adopt: such an operation fails as ExecutorLost instead of
 * running twice.
 *
 * What a script sees of the executor: an environment built here from nothing (the executor's PATH
 * and locale, its workspace as HOME, the product's variables, the operation's), and — when the
 * executor runs as root — nothing of its processes or files, since it runs as another user. The
 * README says what this isolation does not give.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import { constants } from 'node:os';
import path from 'node:path';
import { PACKAGES_DIR, packageSpecs, packageVariable } from '../../core/package-layout.js';
import type { PackageSource } from '../../core/package-sources.js';
import { LineSplitter } from '../output/line-splitter.js';
import { fetchPackages } from '../packages/fetch-packages.js';
import { PackageError } from '../packages/package-error.js';
import type { RunContext, Runtime, StopReason } from '../runtime.js';
import { INTERPRETERS } from '../interpreters.js';
import { outcomes, type Outcome } from '../../core/contract/outcomes.js';
import { scriptVariables } from '../script-variables.js';
import { findProgram } from './find-program.js';
import { assertReachable, chooseScriptUser, type ScriptUser } from './script-user.js';
import { underWatchdog, WATCHDOG_FD } from './watchdog.js';
import { createWorkspace } from './workspace.js';

export interface LocalRuntimeOptions {
  /** Root of the per-operation workspaces. */
  workDir: string;
  /**
   * The executor's environment, of which a script gets PATH (also where interpreters are looked
   * up), LANG, LC_ALL and TZ only.
   */
  baseEnv: Record<string, string | undefined>;
  /** Who scripts run as; default: nobody when the executor is root, else the executor's user. */
  user?: ScriptUser;
  /** Time between the polite SIGTERM and the SIGKILL when a script is stopped. */
  killGraceMs?: number;
  /** Where packages may come from and how much an operation may download; none: no packages are fetched. */
  packages?: { sources: readonly PackageSource[]; maxBytes: number; progressIntervalMs?: number };
}

const INHERITED = ['LANG', 'LC_ALL', 'TZ'] as const;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

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
  private readonly path: string;
  private readonly inherited: Record<string, string> = {};

  private constructor(
    private readonly options: LocalRuntimeOptions,
    private readonly user: ScriptUser | undefined,
  ) {
    this.path = options.baseEnv.PATH || DEFAULT_PATH;
    for (const name of INHERITED) if (options.baseEnv[name] !== undefined) this.inherited[name] = options.baseEnv[name]!;
  }

  /**
   * Makes the work dir — passable but not listable by the scripts' user, so each reaches its own
   * workspace only — and refuses to start when that user cannot reach it.
   */
  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const user = chooseScriptUser(options.user, process.getuid?.() ?? -1);
    const mode = user ? 0o711 : 0o700;
    await mkdir(options.workDir, { recursive: true, mode });
    await chmod(options.workDir, mode);
    if (user) await assertReachable(options.workDir, user);
    return new LocalRuntime(options, user);
  }

  async run(context: RunContext): Promise<Outcome> {
    const { request, output } = context;
    const interpreter = INTERPRETERS[request.script.syntax];
    const variables = scriptVariables(request.variables);
    if (variables.refused) return outcomes.runtimeError(variables.refused);
    const badArgument = (request.arguments ?? []).findIndex((argument) => argument.includes('\0'));
    if (badArgument >= 0) return outcomes.runtimeError(`Argument ${badArgument + 1} contains a NUL character, which a program's argument cannot hold`);
    const program = await findProgram(interpreter.command, this.path, this.user);
    if (!program) {
      return outcomes.runtimeError(
        `${interpreter.command} is not installed on this executor, so ${request.script.syntax} scripts cannot run here: install it or send the operation to a pool whose executors have it`,
      );
    }
    for (const line of variables.skipped) output.system(line);

    // The timeout covers the downloads too: what is left of it after them is the script's.
    const deadline = Date.now() + context.timeoutSeconds * 1000;
    const packages = packageSpecs(request.packages);
    const fetching = AbortSignal.any([context.signal, AbortSignal.timeout(context.timeoutSeconds * 1000)]);
    let workspace;
    try {
      workspace = await createWorkspace(this.options.workDir, context.ticket, request, interpreter.scriptFile, this.user, (dir) =>
        fetchPackages({
          dir: path.join(dir, PACKAGES_DIR),
          packages,
          sources: this.options.packages?.sources ?? [],
          maxBytes: this.options.packages?.maxBytes ?? 0,
          signal: fetching,
          say: (line) => output.system(line),
          ...(this.options.packages?.progressIntervalMs ? { progressIntervalMs: this.options.packages.progressIntervalMs } : {}),
        }),
      );
    } catch (error) {
      if (error instanceof PackageError && !fetching.aborted) return outcomes.packageFailed(error.message);
      if (!fetching.aborted) throw error;
      return this.stoppedBeforeStart(context);
    }
    if (packages.length > 0 && fetching.aborted) {
      await workspace.remove();
      return this.stoppedBeforeStart(context);
    }
    try {
      const env: Record<string, string> = {
        PATH: this.path,
        ...this.inherited,
        HOME: workspace.dir,
        ...variables.passed,
        ...Object.fromEntries(packages.map((pkg) => [packageVariable(pkg.name), path.join(workspace.dir, PACKAGES_DIR, pkg.name)])),
        KUBE_WORKER_TICKET: context.ticket,
        KUBE_WORKER_WORKSPACE: workspace.dir,
      };
      const { command, args } = underWatchdog(program, [...interpreter.flags, workspace.scriptPath, ...(request.arguments ?? [])]);
      let child: ChildProcess;
      try {
        child = spawn(command, args, {
          cwd: workspace.dir,
          env,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe', ...Array<'pipe'>(WATCHDOG_FD - 2).fill('pipe')],
          ...(this.user ?? {}),
        });
      } catch (error) {
        // Its message may quote the environment; the code says enough.
        return outcomes.runtimeError(`could not start ${interpreter.command}: ${(error as NodeJS.ErrnoException).code ?? 'invalid arguments'}`);
      }
      const stdout = new LineSplitter((line, dropped) => output.line('stdout', line, undefined, undefined, dropped));
      const stderr = new LineSplitter((line, dropped) => output.line('stderr', line, undefined, undefined, dropped));
      child.stdout!.on('data', (chunk: Buffer) => stdout.write(chunk));
      child.stderr!.on('data', (chunk: Buffer) => stderr.write(chunk));

      let stopped: StopReason | 'timeout' | undefined;
      const stop = (reason: StopReason | 'timeout'): void => {
        if (stopped || child.pid === undefined) return;
        stopped = reason;
        killGroup(child.pid, 'SIGTERM');
        setTimeout(() => killGroup(child.pid!, 'SIGKILL'), this.options.killGraceMs ?? 1000).unref();
      };
      const onAbort = (): void => stop(context.signal.reason as StopReason);
      const timer = setTimeout(() => stop('timeout'), Math.max(0, deadline - Date.now()));
      context.signal.addEventListener('abort', onAbort, { once: true });
      if (context.signal.aborted) onAbort();

      const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: NodeJS.ErrnoException }>((resolve) => {
        child.once('error', (error) => resolve({ error }));
        child.once('spawn', () => void context.started());
        child.once('exit', (code, signal) => {
          // Background processes the script left behind, and its watchdog, still hold its pipes; end them with it.
          if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
          child.once('close', () => resolve({ code, signal }));
        });
      });
      child.stdio[WATCHDOG_FD]?.destroy();
      clearTimeout(timer);
      context.signal.removeEventListener('abort', onAbort);
      stdout.end();
      stderr.end();

      if ('error' in ended) return outcomes.runtimeError(`could not start ${interpreter.command}: ${ended.error.code ?? ended.error.message}`);
      if (stopped === 'timeout') return outcomes.deadlineExceeded(context.timeoutSeconds);
      if (stopped === 'cancel') return outcomes.cancelled('running');
      if (stopped === 'shutdown') return outcomes.shutDown();
      const exitCode = ended.code ?? 128 + (ended.signal ? constants.signals[ended.signal] : 0);
      return exitCode === 0 ? outcomes.succeeded() : outcomes.scriptFailed(exitCode, ended.signal ?? undefined);
    } finally {
      await workspace.remove();
    }
  }

  /** Cancelled, shut down or timed out while its packages were fetched. */
  private stoppedBeforeStart(context: RunContext): Outcome {
    if (context.signal.aborted) return context.signal.reason === 'cancel' ? outcomes.cancelled('before start') : outcomes.shutDown();
    return outcomes.deadlineExceeded(context.timeoutSeconds);
  }

  async close(): Promise<void> {}
}
