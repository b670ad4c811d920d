/**
 * The test cluster's processes: each runs detached, with a pid file in `run/` and a log in `logs/`
 * under the state folder, and is found again by that pid checked against its command line.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { alive } from '../support/pid-lock.js';

export const components = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'containerd', 'kubelet', 'kube-proxy'] as const;
/** Run only when asked for (the simulated nodes); the cluster is up without them. */
export const optionalComponents = ['kwok'] as const;
export type Component = (typeof components)[number] | (typeof optionalComponents)[number];

/** The binaries a component may run from (multi-call binaries are called by their own name too). */
const binaryNames: Record<Component, string[]> = {
  etcd: ['etcd', 'kwcluster'],
  'kube-apiserver': ['kube-apiserver', 'kwcluster'],
  'kube-controller-manager': ['kube-controller-manager', 'kwcluster'],
  'kube-scheduler': ['kube-scheduler', 'kwcluster'],
  containerd: ['containerd'],
  kubelet: ['kubelet', 'kwnode'],
  'kube-proxy': ['kube-proxy', 'kwnode'],
  kwok: ['kwok'],
};

export function log(msg: string): void {
  process.stderr.write(`[cluster] ${msg}\n`);
}

export function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return '';
  }
}

export function tail(file: string, lines = 25): string {
  return readFileSafe(file).split('\n').slice(-lines).join('\n');
}

export class Processes {
  readonly logDir: string;
  readonly runDir: string;

  constructor(readonly stateDir: string) {
    this.logDir = join(stateDir, 'logs');
    this.runDir = join(stateDir, 'run');
  }

  logOf(c: Component): string {
    return join(this.logDir, `${c}.log`);
  }

  /** The pid of a running component, checked against its command line (pids are reused). */
  pidOf(c: Component): number | undefined {
    const pid = Number(readFileSafe(join(this.runDir, `${c}.pid`)));
    if (!pid || !alive(pid)) return undefined;
    const cmdline = readFileSafe(`/proc/${pid}/cmdline`).split('\0');
    if (!cmdline.some((a) => binaryNames[c].some((b) => a === b || a.endsWith(`/${b}`)))) return undefined;
    if (!cmdline.join(' ').includes(this.stateDir)) return undefined;
    return pid;
  }

  start(c: Component, bin: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
    mkdirSync(this.logDir, { recursive: true });
    mkdirSync(this.runDir, { recursive: true });
    appendFileSync(this.logOf(c), `\n==== ${new Date().toISOString()} ${bin} ${args.join(' ')}\n`);
    const out = openSync(this.logOf(c), 'a');
    const child = spawn(bin, args, {
      detached: true,
      stdio: ['ignore', out, out],
      env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: homedir(), ...env },
    });
    closeSync(out);
    child.unref();
    if (!child.pid) throw new Error(`could not start ${c}`);
    writeFileSync(join(this.runDir, `${c}.pid`), String(child.pid));
    return child.pid;
  }

  /** SIGTERM, then SIGKILL after graceMs; logs how each one ended unless quiet. */
  async stop(cs: readonly Component[], graceMs: number, quiet = false): Promise<void> {
    const t0 = Date.now();
    const pids = new Map<Component, number>();
    for (const c of cs) {
      const pid = this.pidOf(c);
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGTERM');
        pids.set(c, pid);
      } catch {
        /* gone */
      }
    }
    while ([...pids.values()].some(alive) && Date.now() - t0 < graceMs) await new Promise((r) => setTimeout(r, 100));
    for (const [c, pid] of pids) {
      let how = 'stopped';
      if (alive(pid)) {
        how = 'killed';
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      if (!quiet) log(`${how} ${c} (pid ${pid}) after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, logFile?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const last = logFile ? `\n--- last lines of ${logFile} ---\n${tail(logFile)}` : '';
  throw new Error(`cluster: timed out after ${timeoutMs / 1000}s waiting for ${what}${last}`);
}
