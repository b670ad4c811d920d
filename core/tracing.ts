/**
 * Traces, as the rest of the code sees them: a small interface with nothing of OpenTelemetry in it,
 * so that a process without OTEL_EXPORTER_OTLP_ENDPOINT loads no SDK (core/tracing-start.ts
 * picks NO_TRACING or core/otel-tracing.ts).
 *
 * An operation is one trace: the dispatcher's span of its submission request; then, across the
 * queue, the executor's spans (the queue wait, the operation, its start and run, and its
 * Kubernetes calls) as children of that request's span. The queue carries only the W3C
 * `traceparent` of the request's span (version, trace id, span id, flags): nothing of the operation.
 *
 * Spans carry only the attributes named in SpanAttributes, all of the product's own: a script,
 * variable, file, header or failure message has no place in them.
 */

/** Every attribute a span may carry. */
export interface SpanAttributes {
  'kube_worker.ticket'?: string;
  'kube_worker.pool'?: string;
  'kube_worker.executor'?: string;
  'kube_worker.runtime'?: string;
  'kube_worker.outcome'?: string;
  /** The failure's reason code (ScriptFailed, ImagePullFailed, …), never its message. */
  'kube_worker.reason'?: string;
  'http.request.method'?: string;
  'http.route'?: string;
  'http.response.status_code'?: number;
  'messaging.system'?: string;
  'messaging.operation.type'?: string;
  'messaging.destination.name'?: string;
  'kube_worker.kubernetes.verb'?: string;
  /** The API server's answer, 0 when none came. */
  'kube_worker.kubernetes.status_code'?: number;
}

export type SpanKind = 'server' | 'consumer' | 'internal' | 'client';

export interface SpanOptions {
  kind?: SpanKind;
  /** The parent's traceparent (from the queue or a request header); else the active span, if any. */
  parent?: string | undefined;
  /** When it began, in milliseconds since the epoch; now when not given. */
  startTime?: number;
  attributes?: SpanAttributes;
}

export interface OpenSpan {
  setAttributes(attributes: SpanAttributes): void;
  /** Marks the span failed with a code of the product's own (never a message, which may quote a script). */
  fail(code: string): void;
  /** A finished child of this span, from `start` to `end` (milliseconds since the epoch). */
  addChild(name: string, start: number, end: number, attributes?: SpanAttributes): void;
  /** This span as a W3C traceparent, to carry across the queue; undefined when it is not sampled. */
  readonly traceparent: string | undefined;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Runs `fn` in a new span, active for what `fn` calls; the span ends when `fn` settles. */
  inSpan<T>(name: string, options: SpanOptions, fn: (span: OpenSpan) => Promise<T>): Promise<T>;
  /** A span for one call made on behalf of an operation: only inside an active span, so that calls of no operation (watches, sweeps) start no trace of their own. */
  inChildSpan<T>(name: string, options: Omit<SpanOptions, 'parent'>, fn: (span: OpenSpan) => Promise<T>): Promise<T>;
  /** A finished span from `start` to `end`, the child of `parent`: a wait measured after the fact. */
  record(name: string, parent: string | undefined, start: number, end: number, attributes: SpanAttributes): void;
  /** Sends what is buffered and stops; never throws. */
  shutdown(): Promise<void>;
}

/** A span that records nothing. */
export const NO_SPAN: OpenSpan = { setAttributes: () => undefined, fail: () => undefined, addChild: () => undefined, traceparent: undefined };

/** Tracing off: every call runs its function, and nothing else happens. */
export const NO_TRACING: Tracing = {
  enabled: false,
  inSpan: (_name, _options, fn) => fn(NO_SPAN),
  inChildSpan: (_name, _options, fn) => fn(NO_SPAN),
  record: () => undefined,
  shutdown: async () => undefined,
};

/** A W3C traceparent, version 00, with a valid (non-zero) trace and span id. */
export interface TraceParent {
  traceId: string;
  spanId: string;
  flags: number;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Reads a traceparent; anything else (another version, a zero id, extra text) is none. */
export function parseTraceparent(text: unknown): TraceParent | undefined {
  if (typeof text !== 'string') return undefined;
  const match = TRACEPARENT.exec(text.trim());
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, flags: parseInt(match[3]!, 16) };
}

export const formatTraceparent = ({ traceId, spanId, flags }: TraceParent): string => `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, '0')}`;
