/**
 * The executor's heartbeat: every few seconds it tells the registry that it is online and which
 * operations it is running, so that /api/v1/worker lists it and an executor handed one of its
 * operations again can tell a live run from a lost one (previous-run.ts).
 */
import { HEARTBEAT_MS, type ExecutorInfo, type ExecutorRegistry } from '../core/executor-registry.js';
import type { Logger } from '../core/logger.js';

export interface Heartbeat {
  stop(): void;
}

export function startHeartbeat(registry: ExecutorRegistry, info: ExecutorInfo, running: () => string[], log: Logger): Heartbeat {
  let beating = false;
  const beat = (): void => {
    // One at a time: while Redis is away they would queue up behind each other.
    if (beating) return;
    beating = true;
    registry
      .beat(info, running())
      .catch((error: unknown) => log.warn({ err: error }, 'heartbeat failed'))
      .finally(() => (beating = false));
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
