/**
 * The local runtime: each operation is a child process of the executor, in its own process group
 * and private workspace. It is the embedded default, so the whole product runs on one machine
 * without a cluster. A script it was running when its executor died is killed by its watchdog
 * (see watchdog.ts), so it does not adopt: such an operation fails as ExecutorLost instead of
 * running twice.
 *
 * What a script sees of the executor: an environment built here from nothing (the executor's PATH
 * and locale, its workspace as HOME, the product's variables, the operation's), and — when the
 * executor runs as root — nothing of its processes or files, nor of another operation's, since each
 * operation runs as a user of its own. The README says what this isolation does not give.
 *
 * A run ends when the script's own process exits (or is killed at a cancel or timeout), never later
 * because something it left behind keeps its output open: what is left is killed (with a user of its
 * own, all of it; otherwise its process group), the output gets a short time to drain, and its pipes
 * are closed from this side.
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
import { assertReachable, chooseScriptUsers, type ScriptUser, type ScriptUsers, type UidRange } from './script-user.js';
import { UidPool } from './uid-pool.js';
import { killAllOf, uidsInUse } from './uid-processes.js';
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
  /**
   * One user every script runs as, instead of a user per operation from `uids` (root executor only).
   * @defaultValue none
   */
  user?: ScriptUser;
  /**
   * The uids a root executor gives its running operations, one each (also as gid).
   * @defaultValue {@link DEFAULT_UIDS}
   */
  uids?: UidRange;
  /**
   * Time between the polite SIGTERM and the SIGKILL when a script is stopped.
   * @defaultValue 1000
   */
  killGraceMs?: number;
  /**
   * How long output may still come once the script's own process has ended, before its pipes are
   * closed from this side (a process it left holds them open).
   * @defaultValue 2000
   */
  outputDrainMs?: number;
  /** Where packages may come from and how much an operation may download; none: no packages are fetched. */
  packages?: { sources: readonly PackageSource[]; maxBytes: number; progressIntervalMs?: number };
}

/** As KUBE_WORKER_LOCAL_UIDS's default. */
export const DEFAULT_UIDS: UidRange = { first: 2_000_000_000, last: 2_000_009_999 };

const INHERITED = ['LANG', 'LC_ALL', 'TZ'] as const;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

type Exit = { code: number | null; signal: NodeJS.Signals | null } | { error: NodeJS.ErrnoException };

/** How the script's own process ended (or failed to start), whatever still holds its output. */
function exitOf(child: ChildProcess, started: () => void): Promise<Exit> {
  return new Promise((resolve) => {
    child.once('error', (error) => resolve({ error }));
    child.once('spawn', started);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Waits for the script's output pipes to close, at most `ms`, then closes them from this side. */
async function drain(child: ChildProcess, ms: number): Promise<void> {
  const streams = [child.stdout, child.stderr].filter((stream) => stream !== null && !stream.closed);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(streams.map((stream) => new Promise((resolve) => stream!.once('close', resolve)))),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
  for (const stream of child.stdio) stream?.destroy();
}

export class LocalRuntime implements Runtime {
  readonly name = 'local';
  readonly handsBackOnShutdown = false;
  private readonly path: string;
  private readonly inherited: Record<string, string> = {};

  /** Set for a user per operation. */
  private readonly pool: UidPool | undefined;

  private constructor(
    private readonly options: LocalRuntimeOptions,
    private readonly users: ScriptUsers,
  ) {
    this.pool = users.kind === 'per-operation' ? new UidPool(users.uids, uidsInUse) : undefined;
    this.path = options.baseEnv.PATH || DEFAULT_PATH;
    for (const name of INHERITED) if (options.baseEnv[name] !== undefined) this.inherited[name] = options.baseEnv[name]!;
  }

  /**
   * Makes the work dir — passable but not listable by the scripts' users, so each reaches its own
   * workspace only — and refuses to start when they cannot reach it, or cannot be switched to.
   */
  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const users = chooseScriptUsers(options.user, options.uids ?? DEFAULT_UIDS, process.getuid?.() ?? -1);
    // Any user but the work dir's owner stands for all of the range: they pass as "others".
    const someone = users.kind === 'shared' ? users.user : users.kind === 'per-operation' ? { uid: users.uids.first, gid: users.uids.first } : undefined;
    const mode = someone ? 0o711 : 0o700;
    await mkdir(options.workDir, { recursive: true, mode });
    await chmod(options.workDir, mode);
    if (someone) await assertReachable(options.workDir, someone);
    if (users.kind === 'per-operation') await assertCanBecome(users.uids);
    return new LocalRuntime(options, users);
  }

  async run(context: RunContext): Promise<Outcome> {
    if (!this.pool) return this.runAs(context, this.users.kind === 'shared' ? this.users.user : undefined);
    const user = await this.pool.take();
    if (!user) {
      const { first, last } = this.pool.uids;
      return outcomes.runtimeError(
        `every uid of KUBE_WORKER_LOCAL_UIDS (${first}-${last}) is held by a running operation or a process left behind: widen the range`,
      );
    }
    // Whatever the run did, nothing of this user may outlive it; a uid whose processes could not
    // all be killed stays out of use, since the pool skips uids that processes hold. Only the
    // script runs as the user, so the kill once it has ended serves for the whole run: a look at
    // /proc costs as much as the rest of a short operation.
    let killed: Promise<boolean> | undefined;
    const killAll = (): Promise<boolean> => (killed ??= killAllOf(user.uid));
    try {
      return await this.runAs(context, user, killAll);
    } finally {
      await killAll();
      this.pool.give(user.uid);
    }
  }

  /**
   * Runs the script as `user` (undefined: the executor's own). `killAll`: kills every process of a
   * user of the operation's own, once its script has ended.
   */
  private async runAs(context: RunContext, user: ScriptUser | undefined, killAll?: () => Promise<boolean>): Promise<Outcome> {
    const { request, output } = context;
    const interpreter = INTERPRETERS[request.script.syntax];
    const variables = scriptVariables(request.variables);
    if (variables.refused) return outcomes.runtimeError(variables.refused);
    const badArgument = (request.arguments ?? []).findIndex((argument) => argument.includes('\0'));
    if (badArgument >= 0) return outcomes.runtimeError(`Argument ${badArgument + 1} contains a NUL character, which a program's argument cannot hold`);
    const program = await findProgram(interpreter.command, this.path, user);
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
      workspace = await createWorkspace(this.options.workDir, context.ticket, request, interpreter.scriptFile, user, (dir) =>
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
      const ownUser = killAll !== undefined;
      const { command, args } = underWatchdog(program, [...interpreter.flags, workspace.scriptPath, ...(request.arguments ?? [])], ownUser);
      let child: ChildProcess;
      try {
        child = spawn(command, args, {
          cwd: workspace.dir,
          env,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe', ...Array<'pipe'>(WATCHDOG_FD - 2).fill('pipe')],
          ...(user ?? {}),
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
      let forceKill: NodeJS.Timeout | undefined;
      const stop = (reason: StopReason | 'timeout'): void => {
        if (stopped || child.pid === undefined) return;
        stopped = reason;
        killGroup(child.pid, 'SIGTERM');
        forceKill = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), this.options.killGraceMs ?? 1000).unref();
      };
      const onAbort = (): void => stop(context.signal.reason as StopReason);
      const timer = setTimeout(() => stop('timeout'), Math.max(0, deadline - Date.now()));
      context.signal.addEventListener('abort', onAbort, { once: true });
      if (context.signal.aborted) onAbort();

      const ended = await exitOf(child, () => void context.started());
      if (!('error' in ended)) context.moment({ name: 'scriptEnded' });
      // What the script left behind, and its watchdog, may still hold its pipes: end them with it —
      // with a user of its own all of them, otherwise those still in its process group.
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      // Once the group is gone its id may be another's: no SIGKILL for it later.
      clearTimeout(forceKill);
      await killAll?.();
      await drain(child, this.options.outputDrainMs ?? 2000);
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

/**
 * Refuses to start when the executor cannot switch to the range's users — in a user namespace that
 * does not map them, say — rather than fail every operation.
 */
async function assertCanBecome(uids: UidRange): Promise<void> {
  const uid = uids.first;
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    try {
      const probe = spawn('/bin/sh', ['-c', ':'], { uid, gid: uid, stdio: 'ignore', env: {} });
      probe.once('error', resolve);
      probe.once('exit', () => resolve(undefined));
    } catch (thrown) {
      // Node refuses some ids before trying.
      resolve(thrown as NodeJS.ErrnoException);
    }
  });
  if (error) {
    throw new Error(
      `local scripts run as uids ${uids.first}-${uids.last} (KUBE_WORKER_LOCAL_UIDS), but this executor cannot run a process as uid ${uid}: ${error.code ?? error.message}; choose ids this machine (or container) maps`,
    );
  }
}
