/**
 * The processes of a uid, found in /proc: what an operation that runs as a uid of its own left
 * behind, wherever it went (another process group or session, a double fork, nohup). A process
 * counts when its real, effective or saved uid is the one asked for (a setuid program started by a
 * script keeps the script's real uid); a zombie does not, since it holds nothing and its parent, or
 * init, reaps it.
 */
import { readdir, readFile } from 'node:fs/promises';

/** `Uid:` (real, effective, saved, filesystem) and `State:` of one /proc/<pid>/status, if it is alive. */
export function statusUids(status: string): number[] | undefined {
  const state = /^State:\s+(\S)/m.exec(status)?.[1];
  if (state === undefined || state === 'Z' || state === 'X') return undefined;
  const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
  return uids ? [Number(uids[1]), Number(uids[2]), Number(uids[3])] : undefined;
}

/** Every live process on the machine, with the uids it holds. */
export async function liveProcesses(): Promise<Array<{ pid: number; uids: number[] }>> {
  // Read side by side: one after another, a busy machine's few hundred processes take a run's worth of time.
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  const found = await Promise.all(
    pids.map(async (pid) => {
      const uids = statusUids(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')); // '' : it ended while we looked
      return uids ? { pid: Number(pid), uids } : undefined;
    }),
  );
  return found.filter((process): process is { pid: number; uids: number[] } => process !== undefined);
}

/** The uids that some live process holds. */
export async function uidsInUse(): Promise<Set<number>> {
  return new Set((await liveProcesses()).flatMap((process) => process.uids));
}

/** How long killAllOf tries before it gives up on a uid whose processes keep coming back. */
const KILL_ALL_MS = 10_000;

/**
 * SIGKILLs every process of `uid` and looks again, until a pass finds none: a process may fork
 * between the look and the kill, and its child shows up in the next pass. True when none is left;
 * false after KILL_ALL_MS if some still are (the caller then keeps the uid out of use).
 */
export async function killAllOf(uid: number): Promise<boolean> {
  const deadline = Date.now() + KILL_ALL_MS;
  for (;;) {
    const left = (await liveProcesses()).filter((process) => process.uids.includes(uid));
    if (left.length === 0) return true;
    if (Date.now() > deadline) return false;
    for (const { pid } of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    // A killed process stays in /proc until the kernel has torn it down.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
