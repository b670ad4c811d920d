/**
 * A lock shared by the processes of this machine, for builds that must not run twice at once: a
 * directory (mkdir is atomic) holding its owner's pid. A lock whose owner has died is taken over;
 * one without a pid yet is being taken by its owner.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Whether a process runs (one of another user's still counts). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(lock: string): number {
  try {
    return Number(readFileSync(join(lock, 'pid'), 'utf8')) || 0;
  } catch {
    return 0;
  }
}

/** Takes the lock when it is free or its owner is gone; otherwise says who holds it (0: being taken). */
export function tryLock(lock: string): { taken: true } | { taken: false; owner: number } {
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return { taken: true };
    } catch {
      const owner = ownerOf(lock);
      if (owner === 0 || alive(owner)) return { taken: false, owner };
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

export function unlock(lock: string): void {
  rmSync(lock, { recursive: true, force: true });
}
