/**
 * A private folder per operation holding its script and files, readable by the executor's user
 * only, removed when the operation ends.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { OperationRequest } from '../../core/contract/operation.js';

export interface Workspace {
  dir: string;
  scriptPath: string;
  remove(): Promise<void>;
}

export async function createWorkspace(root: string, ticket: string, request: OperationRequest, scriptFile: string): Promise<Workspace> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(path.join(root, `${ticket}-`));
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
  return { dir, scriptPath, remove: () => rm(dir, { recursive: true, force: true }) };
}
