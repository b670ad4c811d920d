/**
 * Turns traces on when an OTLP endpoint is configured. OpenTelemetry's SDK and exporter are
 * imported here, on demand, and nowhere else: without the setting a process loads none of them and
 * starts as fast. (prom-client loads the API package, a facade that does nothing without an SDK,
 * either way.)
 */
import { tracesUrl, type TracingConfig } from './config-tracing.js';
import type { Logger } from './logger.js';
import { NO_TRACING, type Tracing } from './tracing.js';

/** `service`: the service.name when OTEL_SERVICE_NAME does not give one. */
export async function startTracing(config: TracingConfig, service: string, logger: Pick<Logger, 'info' | 'warn'>): Promise<Tracing> {
  const url = tracesUrl(config);
  if (!url) return NO_TRACING;
  const { openTelemetryTracing } = await import('./otel-tracing.js');
  const serviceName = config.serviceName ?? service;
  // The URL only: the headers usually hold a credential.
  logger.info({ url, serviceName, sampler: config.tracesSampler }, 'sending traces over OTLP');
  return openTelemetryTracing({ ...config, url, serviceName }, logger);
}
