/**
 * Settings of the OpenTelemetry traces, under the standard OTEL_* names so that an operator's usual
 * variables work. Part of the one configuration read at start-up (core/config.ts). Without an
 * endpoint no OpenTelemetry SDK is loaded (core/tracing-start.ts).
 */
import { ConfigError, oneOf, setting, type ConfigOf } from './config-parsers.js';

/** OTEL_TRACES_SAMPLER: the specification's samplers that need no extension. */
export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

function url(raw: string | undefined, env: string): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw.trim());
  } catch {
    throw new ConfigError(`${env} must be an http:// or https:// URL, not "${raw}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${env} must be an http:// or https:// URL, not "${raw}"`);
  if (parsed.username || parsed.password) throw new ConfigError(`${env} must carry no credentials; put them in OTEL_EXPORTER_OTLP_HEADERS`);
  return parsed.href;
}

/** `key=value,key2=value2`, values percent-encoded (the W3C baggage format the specification names). */
function headers(raw: string | undefined, env: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of (raw ?? '').split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const key = pair.slice(0, at).trim();
    // The value is never quoted in the message: it is usually a credential.
    if (at < 1 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) throw new ConfigError(`${env} must be key=value pairs separated by commas`);
    try {
      result[key.toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      throw new ConfigError(`${env}: the value of "${key}" is not valid percent-encoding`);
    }
  }
  return result;
}

export const TRACING_SETTINGS = [
  setting({
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    key: 'otlpEndpoint',
    defaultNote: 'none: no traces, and no OpenTelemetry SDK is loaded',
    description:
      'Base URL of an OTLP/HTTP (protobuf) receiver, such as an OpenTelemetry Collector (http://otel-collector:4318): the dispatcher and executor send one trace per operation to its /v1/traces — the submission request, the queue wait, the run and, on Kubernetes, the API calls — with the ticket and pool as attributes and nothing of a script, variable, file or secret.',
    parse: url,
  }),
  setting({
    env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    key: 'otlpTracesEndpoint',
    defaultNote: 'OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces',
    description: 'The full URL traces are sent to, when it is not the base endpoint’s /v1/traces; setting it alone also turns traces on.',
    parse: url,
  }),
  setting({
    env: 'OTEL_EXPORTER_OTLP_HEADERS',
    key: 'otlpHeaders',
    defaultNote: 'none',
    description:
      'Headers sent with every export, as key=value pairs separated by commas, values percent-encoded (e.g. authorization=Bearer%20abc). Never logged.',
    parse: headers,
  }),
  setting({
    env: 'OTEL_SERVICE_NAME',
    key: 'serviceName',
    defaultNote: 'kube-worker, kube-worker-dispatcher or kube-worker-executor, after the command',
    description: 'The service.name of the spans a process sends.',
    parse: (raw: string | undefined) => (raw === undefined || raw.trim() === '' ? undefined : raw.trim()),
  }),
  setting({
    env: 'OTEL_TRACES_SAMPLER',
    key: 'tracesSampler',
    default: 'parentbased_always_on',
    description: `Which operations are traced: ${SAMPLERS.join(', ')}. parentbased_* follow the traceparent header of the submission, when its client sends one.`,
    parse: oneOf<SamplerName>(SAMPLERS),
  }),
  setting({
    env: 'OTEL_TRACES_SAMPLER_ARG',
    key: 'tracesSamplerRatio',
    default: '1',
    description: 'The share of operations traced by the traceidratio samplers, from 0 to 1.',
    parse: (raw: string | undefined, env: string) => {
      const value = Number(raw);
      if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1)
        throw new ConfigError(`${env} must be a number from 0 to 1, not "${raw}"`);
      return value;
    },
  }),
] as const;

export type TracingConfig = ConfigOf<typeof TRACING_SETTINGS>;

/** Where traces go, or undefined when they are off. */
export function tracesUrl(config: Pick<TracingConfig, 'otlpEndpoint' | 'otlpTracesEndpoint'>): string | undefined {
  if (config.otlpTracesEndpoint) return config.otlpTracesEndpoint;
  if (config.otlpEndpoint) return `${config.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}
