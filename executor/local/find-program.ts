/**
 * Where a program is, looked up in the executor's own PATH: the caller's PATH is the script's
 * business and must not decide whether its interpreter can be found.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';

export async function findProgram(command: string, searchPath: string): Promise<string | undefined> {
  if (command.includes('/')) return command;
  // An empty entry would mean the current directory, which is no place to find an interpreter.
  for (const dir of searchPath.split(':').filter((d) => path.isAbsolute(d))) {
    const candidate = path.join(dir, command);
    try {
      if ((await stat(candidate)).isFile()) {
        await access(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // Not here; try the next folder.
    }
  }
  return undefined;
}
