/**
 * Restarts the test cluster's kube-apiserver the way test/cluster starts it: the same binary,
 * arguments and environment as the running one (read from /proc), its log appended to, its pid
 * file updated, then waits until it is ready again and the controllers have caught up with it (a
 * new namespace gets its ServiceAccount: their watches back off for up to a minute while it is
 * away), so that what follows starts from a working cluster. etcd keeps every object meanwhile.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { apiGet, stateDir } from '../../cluster/cluster.js';
import { adminKubeConfig, createNamespace, deleteNamespace } from '../../e2e/support/cluster.js';

const pidFile = path.join(stateDir, 'run', 'kube-apiserver.pid');
const logFile = path.join(stateDir, 'logs', 'kube-apiserver.log');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const nulSeparated = (file: string): string[] => readFileSync(file, 'utf8').split('\0').slice(0, -1);

export async function restartApiserver(): Promise<void> {
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const argv = nulSeparated(`/proc/${pid}/cmdline`);
  if (!argv.some((arg) => arg.startsWith('--etcd-servers='))) throw new Error(`pid ${pid} from ${pidFile} is not the kube-apiserver: ${argv.join(' ')}`);
  const binary = readlinkSync(`/proc/${pid}/exe`);
  const env = Object.fromEntries(
    nulSeparated(`/proc/${pid}/environ`).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );

  process.kill(pid, 'SIGTERM');
  for (const deadline = Date.now() + 30_000; alive(pid);) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
  }

  const out = openSync(logFile, 'a');
  const child = spawn(binary, argv.slice(1), { argv0: argv[0], detached: true, stdio: ['ignore', out, out], env });
  closeSync(out);
  child.unref();
  writeFileSync(pidFile, String(child.pid));
  for (const deadline = Date.now() + 90_000; (await apiGet('/readyz')).status !== 200;) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the kube-apiserver did not come back; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const kc = adminKubeConfig();
  await deleteNamespace(kc, await createNamespace(kc, 'apiserver-back', 120_000));
}
