/** The parent's side of bench/support/intake-target.ts: start one target, drive it, stop it. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Figures } from './figures.js';
import type { TargetSpec, ToTarget } from './intake-target.js';

type FromTarget = { kind: 'ready'; url?: string } | { kind: 'figures'; figures: Figures } | { kind: 'cpu'; micros: number };

export interface TargetProcess {
  /** The HTTP targets' base URL. */
  url: string | undefined;
  /** Bare adds in the child, `concurrency` at a time (bare target only). */
  runBare(concurrency: number, seconds: number): Promise<Figures>;
  /** CPU time (user + system, µs) the target's process has used so far. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./intake-target.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;

function next(child: ChildProcess, timeoutMs: number): Promise<FromTarget> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`the intake target did not answer within ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code: number | null): void => fail(new Error(`the intake target exited (${code}) before answering`));
    const onMessage = (message: FromTarget): void => {
      cleanup();
      resolve(message);
    };
    function fail(error: Error): void {
      cleanup();
      reject(error);
    }
    function cleanup(): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export async function startTarget(spec: TargetSpec): Promise<TargetProcess> {
  // The parent's execArgv carries tsx's loader; BENCH_CHILD_ARGS adds e.g. --cpu-prof for profiling.
  const extra = process.env.BENCH_CHILD_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = fork(ENTRY, [], { env: { ...process.env, BENCH_TARGET: JSON.stringify(spec) }, execArgv: [...process.execArgv, ...extra] });
  const ready = await next(child, START_TIMEOUT_MS).catch((error: unknown) => {
    child.kill();
    throw error;
  });
  const send = (message: ToTarget): void => void child.send(message);
  return {
    url: ready.kind === 'ready' ? ready.url : undefined,
    async runBare(concurrency, seconds) {
      send({ kind: 'run', concurrency, seconds });
      const reply = await next(child, (seconds + 30) * 1000);
      if (reply.kind !== 'figures') throw new Error('the bare target answered out of turn');
      return reply.figures;
    },
    async cpuMicros() {
      send({ kind: 'cpu' });
      const reply = await next(child, START_TIMEOUT_MS);
      if (reply.kind !== 'cpu') throw new Error('the target answered out of turn');
      return reply.micros;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      send({ kind: 'stop' });
      const forced = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(forced);
    },
  };
}
