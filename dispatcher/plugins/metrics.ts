/**
 * `GET /metrics` in the Prometheus text format. Open like the health probes: it shows counts and
 * pool names, nothing an operation carries. Under `kube-worker start` the registry also holds the
 * executor's metrics, so one scrape covers the whole process.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../core/metrics.js';

export interface MetricsOptions {
  registry: Registry;
}

export default async function metrics(app: FastifyInstance, { registry }: MetricsOptions): Promise<void> {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}
