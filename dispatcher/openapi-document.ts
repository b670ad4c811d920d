/**
 * The OpenAPI document, built from the dispatcher itself (the same routes and schemas that serve
 * `/docs/json`) without a Redis: its client is never connected, and it serves no pool, so no
 * BullMQ queue connects one either. `npm run openapi` writes it to docs/openapi.json.
 */
import { Redis } from 'ioredis';
import { readConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { createProcessMetrics } from '../core/metrics.js';
import { dispatcherOn } from './server.js';

export type OpenApiDocument = Record<string, unknown>;

export async function openApiDocument(): Promise<OpenApiDocument> {
  const redis = new Redis({ lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    // The document depends on no setting: the defaults, with the one token the dispatcher needs.
    const settings = { ...readConfig({ KUBE_WORKER_API_TOKEN: 'openapi-document-token' }), pools: [], expectReplicas: false };
    const { app } = await dispatcherOn(redis, settings, createLogger('silent', 'openapi'), createProcessMetrics());
    await app.ready();
    const document = app.swagger() as unknown as OpenApiDocument;
    await app.close();
    if (redis.status !== 'wait') throw new Error(`building the OpenAPI document used Redis (its client is ${redis.status})`);
    return document;
  } finally {
    redis.disconnect();
  }
}

/** The document as committed: two-space JSON and a final newline. */
export const documentText = (document: OpenApiDocument): string => `${JSON.stringify(document, null, 2)}\n`;
