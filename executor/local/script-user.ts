/**
 * Who local scripts run as. An executor running as root gives each running operation a user of its
 * own from a range, so that a script can read neither the executor's environment
 * (/proc/<pid>/environ) and files nor another operation's, and so that every process an operation
 * left behind can be found by its uid; or, when configured, one user for all. An executor running as
 * another user can only run them as itself.
 */
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

export interface ScriptUser {
  uid: number;
  gid: number;
}

/** uids first…last, each also the gid of the same number. */
export interface UidRange {
  first: number;
  last: number;
}

/**
 * - per-operation: each running operation gets a uid of the range that no other process holds, and
 *   when it ends every process of that uid is killed;
 * - shared: every script runs as `user` (configured);
 * - executor: scripts run as the executor's own user (it is not root).
 * Only per-operation can tell one operation's processes from another's once they leave the
 * script's process group.
 */
export type ScriptUsers = { kind: 'per-operation'; uids: UidRange } | { kind: 'shared'; user: ScriptUser } | { kind: 'executor' };

/** A user per operation for a root executor, unless one user is `configured`; otherwise the executor's own. */
export function chooseScriptUsers(configured: ScriptUser | undefined, uids: UidRange, executorUid: number): ScriptUsers {
  if (configured && executorUid !== 0 && configured.uid !== executorUid) {
    throw new Error(
      `local scripts are configured to run as uid ${configured.uid}, but only an executor running as root can run them as another user (this one is uid ${executorUid})`,
    );
  }
  if (executorUid !== 0) return { kind: 'executor' };
  if (configured) return { kind: 'shared', user: configured };
  if (uids.first <= 0) throw new Error(`the local uid range ${uids.first}-${uids.last} holds root; scripts must run as other users`);
  return { kind: 'per-operation', uids };
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
  const {
    folder,
    info: { mode, uid },
  } = blocked;
  throw new Error(
    `local scripts run as uid ${user.uid}, which cannot reach the work dir ${dir}: ${folder} is mode ${(mode & 0o777).toString(8).padStart(4, '0')} (owner uid ${uid}); let others through it (o+x) or choose another KUBE_WORKER_WORK_DIR`,
  );
}
