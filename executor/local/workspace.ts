/**
 * A private folder per operation holding its script and files, owned by the user the script runs
 * as and readable by it only, removed when the operation ends.
 */
import { lchown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { OperationRequest } from '../../core/contract/operation.js';
import type { ScriptUser } from './script-user.js';

export interface Workspace {
  dir: string;
  scriptPath: string;
  remove(): Promise<void>;
}

/**
 * `root` exists already (LocalRuntime.start makes it); `owner` undefined: the executor's user.
 * `fill` puts more in the folder (the packages) before it is handed to its owner.
 */
export async function createWorkspace(
  root: string,
  ticket: string,
  request: OperationRequest,
  scriptFile: string,
  owner: ScriptUser | undefined,
  fill: (dir: string) => Promise<void>,
): Promise<Workspace> {
  const dir = await mkdtemp(path.join(root, `${ticket}-`));
  // Retried: a process the script left running (an executor that is not root cannot kill those that
  // left its process group) may still be writing in it.
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true, maxRetries: 5 });
  try {
    const scriptPath = path.join(dir, '.kube-worker', scriptFile);
    await mkdir(path.dirname(scriptPath), { mode: 0o700 });
    await writeFile(scriptPath, request.script.body, { mode: 0o600 });
    for (const file of request.files ?? []) {
      // Names were checked at submit time to stay inside the workspace; resolve again to be sure.
      const target = path.resolve(dir, file.name);
      if (!target.startsWith(dir + path.sep)) throw new Error(`file "${file.name}" escapes the workspace`);
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      await writeFile(target, Buffer.from(file.content, 'base64'), { mode: 0o600 });
    }
    await fill(dir);
    if (owner) {
      // The folder itself last: until then only the executor can enter it, so nothing in it can be
      // swapped for a link that would hand something else to the script's user.
      for (const entry of await readdir(dir, { recursive: true })) await lchown(path.join(dir, entry), owner.uid, owner.gid);
      await lchown(dir, owner.uid, owner.gid);
    }
    return { dir, scriptPath, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
