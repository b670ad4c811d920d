/**
 * Where a program is, looked up in the executor's own PATH: the caller's PATH is the script's
 * business and must not decide whether its interpreter can be found. With `runAs`, only a program
 * that user can run counts (the executor's PATH may lead into /root, e.g. a pyenv shim).
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { canRun, type ScriptUser } from './script-user.js';

export async function findProgram(command: string, searchPath: string, runAs?: ScriptUser): Promise<string | undefined> {
  if (command.includes('/')) return command;
  // An empty entry would mean the current directory, which is no place to find an interpreter.
  for (const dir of searchPath.split(':').filter((d) => path.isAbsolute(d))) {
    const candidate = path.join(dir, command);
    try {
      if ((await stat(candidate)).isFile()) {
        await access(candidate, constants.X_OK);
        if (!runAs || (await canRun(candidate, runAs))) return candidate;
      }
    } catch {
      // Not here; try the next folder.
    }
  }
  return undefined;
}
