/**
 * kube-worker's real dispatcher as an intake target: bearer auth, schema validation, the submit
 * rules, the idempotency record and an info line per accepted operation, as `kube-worker
 * dispatcher` runs it — only its log goes to a file.
 */
import { readConfig } from '../../core/config.js';
import { buildDispatcher } from '../../dispatcher/server.js';
import { fileLogger } from './log-file.js';
import { TOKEN } from './operation.js';

export interface IntakeServer {
  url: string;
  close(): Promise<void>;
}

export async function startKubeWorkerIntake(redisUrl: string, prefix: string, logFile: string): Promise<IntakeServer> {
  const config = readConfig({ KUBE_WORKER_PREFIX: prefix, KUBE_WORKER_API_TOKEN: TOKEN, KUBE_WORKER_LOG_LEVEL: 'info' });
  const dispatcher = await buildDispatcher({ ...config, redisUrl }, fileLogger(logFile, 'kube-worker-dispatcher'));
  const url = await dispatcher.app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => dispatcher.close() };
}
