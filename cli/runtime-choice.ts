/** Picks the executor's runtime from KUBE_WORKER_RUNTIME. */
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { LocalRuntime } from '../executor/local/local-runtime.js';
import type { Runtime } from '../executor/runtime.js';

/** What a local script inherits from the executor's environment; nothing else leaks in. */
const INHERITED = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'USER', 'SHELL', 'TMPDIR'];

export function createRuntime(config: Config, env: NodeJS.ProcessEnv, logger: Logger): Runtime {
  const baseEnv: Record<string, string> = {};
  for (const name of INHERITED) if (env[name] !== undefined) baseEnv[name] = env[name]!;
  if (config.runtime === 'auto') logger.info('runtime auto: no Kubernetes runtime configured, using local processes');
  return new LocalRuntime({ workDir: config.workDir, baseEnv });
}
