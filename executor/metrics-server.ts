/**
 * An executor's own port: `GET /metrics` for Prometheus, and `/livez` and `/readyz` for the
 * kubelet's probes. A bare node:http server: the executor has no HTTP API, and keeps fastify to the
 * dispatcher. It listens only once the executor has started (connected to Redis and, on
 * Kubernetes, watching its Jobs), so a rollout waits for a new executor to be ready before it stops
 * an old one; `/readyz` answers 503 once the executor is shutting down.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from '../core/metrics.js';

export interface MetricsServer {
  /** The port it listens on (useful when asked for port 0). */
  port: number;
  close(): Promise<void>;
}

export async function serveMetrics(registry: Registry, host: string, port: number, isShuttingDown: () => boolean): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    const text = (status: number, body: string): void => void response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, 'only GET and HEAD\n');
    if (path === '/livez') return text(200, 'ok\n');
    if (path === '/readyz') return isShuttingDown() ? text(503, 'shutting down\n') : text(200, 'ready\n');
    if (path !== '/metrics') return text(404, 'not found: metrics are at /metrics, probes at /livez and /readyz\n');
    registry.metrics().then(
      (metrics) => response.writeHead(200, { 'content-type': registry.contentType }).end(request.method === 'HEAD' ? undefined : metrics),
      (error: unknown) => text(500, `could not collect metrics: ${(error as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        // Scrapers keep connections alive; they must not hold the shutdown.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
