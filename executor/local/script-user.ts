/**
 * The user local scripts run as. An executor running as root runs them as `nobody` (or the user
 * configured), so that a script can read neither the executor's environment (/proc/<pid>/environ)
 * nor its files; an executor running as another user can only run them as itself.
 */
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

export interface ScriptUser {
  uid: number;
  gid: number;
}

export const NOBODY: ScriptUser = { uid: 65534, gid: 65534 };

/** `configured`, else nobody for a root executor, else undefined: the executor's own user. */
export function chooseScriptUser(configured: ScriptUser | undefined, executorUid: number): ScriptUser | undefined {
  if (configured && executorUid !== 0 && configured.uid !== executorUid) {
    throw new Error(`local scripts are configured to run as uid ${configured.uid}, but only an executor running as root can run them as another user (this one is uid ${executorUid})`);
  }
  return configured ?? (executorUid === 0 ? NOBODY : undefined);
}

/** Whether `user` has the execute (for a folder: search) permission on what `info` describes. */
function mayExecute(info: Stats, user: ScriptUser): boolean {
  const { mode, uid, gid } = info;
  return (uid === user.uid ? mode & 0o100 : gid === user.gid ? mode & 0o010 : mode & 0o001) !== 0;
}

/** The first folder on the way to `target` (itself included) that `user` may not pass through, if any. */
async function folderInTheWay(target: string, user: ScriptUser): Promise<{ folder: string; info: Stats } | undefined> {
  for (let folder = path.resolve(target); ; folder = path.dirname(folder)) {
    const info = await stat(folder);
    if (!mayExecute(info, user)) return { folder, info };
    if (folder === path.dirname(folder)) return undefined;
  }
}

/** Whether `user` can run the program at `file` (e.g. not one under /root). */
export async function canRun(file: string, user: ScriptUser): Promise<boolean> {
  return (await folderInTheWay(file, user)) === undefined;
}

/** Throws, naming the folder in the way, unless `user` may pass through every folder down to `dir`. */
export async function assertReachable(dir: string, user: ScriptUser): Promise<void> {
  const blocked = await folderInTheWay(dir, user);
  if (!blocked) return;
  const { folder, info: { mode, uid } } = blocked;
  throw new Error(
    `local scripts run as uid ${user.uid}, which cannot reach the work dir ${dir}: ${folder} is mode ${(mode & 0o777).toString(8).padStart(4, '0')} (owner uid ${uid}); let others through it (o+x) or choose another KUBE_WORKER_WORK_DIR`,
  );
}
