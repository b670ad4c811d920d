/**
 * Graceful shutdown on SIGTERM/SIGINT: run the closers in order, log instead of throwing; a second
 * signal forces the exit.
 */
import type { Logger } from '../core/logger.js';

export function onShutdown(logger: Logger, closers: Array<() => Promise<void>>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down (send the signal again to force)');
    void (async () => {
      for (const close of closers) {
        await close().catch((error: unknown) => logger.error({ err: error }, 'error during shutdown'));
      }
      process.exit(0);
    })();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
