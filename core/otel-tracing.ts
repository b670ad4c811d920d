/**
 * Tracing through OpenTelemetry: spans batched and sent over OTLP/HTTP (protobuf). The one module
 * that imports OpenTelemetry, loaded only when traces are configured (core/tracing-start.ts).
 */
import { context, ROOT_CONTEXT, SpanKind as OtelSpanKind, SpanStatusCode, trace, TraceFlags, type Context, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import type { SamplerName, TracingConfig } from './config-tracing.js';
import type { Logger } from './logger.js';
import { formatTraceparent, NO_SPAN, parseTraceparent, type OpenSpan, type SpanKind, type SpanOptions, type Tracing } from './tracing.js';
import { VERSION } from './version.js';

const KINDS: Record<SpanKind, OtelSpanKind> = {
  server: OtelSpanKind.SERVER,
  consumer: OtelSpanKind.CONSUMER,
  internal: OtelSpanKind.INTERNAL,
  client: OtelSpanKind.CLIENT,
};

function sampler(name: SamplerName, ratio: number): Sampler {
  const root = { always_on: new AlwaysOnSampler(), always_off: new AlwaysOffSampler(), traceidratio: new TraceIdRatioBasedSampler(ratio) };
  if (name === 'always_on' || name === 'always_off' || name === 'traceidratio') return root[name];
  return new ParentBasedSampler({ root: root[name.slice('parentbased_'.length) as keyof typeof root] });
}

/** The context whose parent is `traceparent`, or `base` when there is none (or it is not one). */
function withParent(base: Context, traceparent: string | undefined): Context {
  const parent = parseTraceparent(traceparent);
  if (!parent) return base;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.flags, isRemote: true });
}

export function openTelemetryTracing(
  config: Pick<TracingConfig, 'otlpHeaders' | 'tracesSampler' | 'tracesSamplerRatio'> & { url: string; serviceName: string },
  logger: Pick<Logger, 'warn'>,
): Tracing {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const exporter = new OTLPTraceExporter({ url: config.url, headers: config.otlpHeaders, timeoutMillis: 10_000 });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': VERSION }),
    sampler: sampler(config.tracesSampler, config.tracesSamplerRatio),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1000 })],
  });
  const tracer = provider.getTracer('kube-worker', VERSION);

  const open = (span: Span, spanContext: Context): OpenSpan => ({
    setAttributes: (attributes) => span.setAttributes(attributes as Record<string, string | number>),
    fail: (code) => span.setStatus({ code: SpanStatusCode.ERROR, message: code }),
    addChild: (name, start, end, attributes) => {
      tracer.startSpan(name, { startTime: start, attributes: attributes as Record<string, string | number> }, trace.setSpan(spanContext, span)).end(end);
    },
    get traceparent() {
      const { traceId, spanId, traceFlags } = span.spanContext();
      return traceFlags & TraceFlags.SAMPLED ? formatTraceparent({ traceId, spanId, flags: traceFlags }) : undefined;
    },
  });

  async function inSpan<T>(name: string, options: SpanOptions, fn: (span: OpenSpan) => Promise<T>): Promise<T> {
    const parentContext = withParent(context.active(), options.parent);
    const span = tracer.startSpan(
      name,
      { kind: KINDS[options.kind ?? 'internal'], attributes: (options.attributes ?? {}) as Record<string, string | number>, startTime: options.startTime },
      parentContext,
    );
    const spanContext = trace.setSpan(parentContext, span);
    try {
      return await context.with(spanContext, () => fn(open(span, spanContext)));
    } catch (error) {
      // The error's class only: its message may quote what a script wrote.
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.name ?? 'Error' });
      throw error;
    } finally {
      span.end();
    }
  }

  return {
    enabled: true,
    inSpan,
    inChildSpan: (name, options, fn) => (trace.getSpan(context.active())?.isRecording() ? inSpan(name, options, fn) : fn(NO_SPAN)),
    record(name, parent, start, end, attributes) {
      tracer.startSpan(name, { startTime: start, attributes: attributes as Record<string, string | number> }, withParent(ROOT_CONTEXT, parent)).end(end);
    },
    async shutdown() {
      await provider.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'could not send the last traces'));
      contextManager.disable();
    },
  };
}
