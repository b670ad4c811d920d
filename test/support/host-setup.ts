/**
 * What the cluster and image tests need from the machine (containerd, runc, the CNI plugins,
 * iptables, Docker, mmdebstrap, the local image registry), installed from Debian and started by the
 * project's own scripts when the tests run as root, so that `npm test` on a fresh machine runs those
 * tests rather than skipping them. Each script does nothing when everything is there. Not root: the
 * tests say what is missing and which script installs it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const SCRIPTS = ['test/cluster/host-setup.sh', 'test/images/host-setup.sh'];
const root = path.resolve(import.meta.dirname, '../..');

let prepared = false;

/** Once per test run: the e2e, chart and images setups all ask, in the same process. */
export function prepareHost(): void {
  if (prepared || process.getuid?.() !== 0) return;
  prepared = true;
  for (const script of SCRIPTS) {
    // Their output goes to stderr: a test run's stdout is the reporter's.
    const result = spawnSync('bash', [path.join(root, script)], { stdio: ['ignore', process.stderr, process.stderr] });
    if (result.status !== 0) throw new Error(`${script} failed (exit ${result.status ?? result.signal}); run it by hand to see why`);
  }
}
