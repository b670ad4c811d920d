/**
 * kube-worker as `kube-worker start` runs it, in this process: the dispatcher and an executor with
 * the local runtime, sharing one metrics registry, logging at info to a file. Operations go in
 * through the HTTP API.
 */
import { readConfig } from '../../core/config.js';
import { createExecutorMetrics, createProcessMetrics } from '../../core/metrics.js';
import { runtimeFactory } from '../../cli/runtime-choice.js';
import { buildDispatcher } from '../../dispatcher/server.js';
import { startExecutor } from '../../executor/executor.js';
import { fileLogger } from './log-file.js';
import { POOL, SUBMIT_PATH, TOKEN } from './operation.js';

export interface LocalTarget {
  /** Queues one `echo hi` operation. */
  submit(): Promise<void>;
  /** Where the dispatcher listens, e.g. http://127.0.0.1:40000 (kube-worker only). */
  readonly baseUrl?: string;
  close(): Promise<void>;
}

const BODY = JSON.stringify({ pool: POOL, script: { syntax: 'bash', body: 'echo hi' } });

export async function startKubeWorkerLocal(redisUrl: string, prefix: string, concurrency: number, workDir: string, logFile: string): Promise<LocalTarget> {
  const config = readConfig({
    KUBE_WORKER_PREFIX: prefix,
    KUBE_WORKER_API_TOKEN: TOKEN,
    KUBE_WORKER_CONCURRENCY: String(concurrency),
    KUBE_WORKER_WORK_DIR: workDir,
    KUBE_WORKER_RUNTIME: 'local',
    KUBE_WORKER_LOG_LEVEL: 'info',
  });
  const logger = fileLogger(logFile, 'kube-worker');
  const metrics = createProcessMetrics();
  const noKubernetes = (): void => undefined;
  const executor = await startExecutor(
    { ...config, redisUrl },
    runtimeFactory(config, process.env, logger, noKubernetes),
    logger,
    createExecutorMetrics(metrics),
  );
  const dispatcher = await buildDispatcher({ ...config, redisUrl }, logger, metrics);
  const baseUrl = await dispatcher.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `${baseUrl}${SUBMIT_PATH}`;
  return {
    baseUrl,
    async submit() {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: BODY });
      if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
    },
    async close() {
      await dispatcher.close();
      await executor.close();
    },
  };
}
