import { describe, expect, it } from 'vitest';
import { readConfig } from '../../core/config.js';
import { tracesUrl } from '../../core/config-tracing.js';
import { formatTraceparent, parseTraceparent } from '../../core/tracing.js';

const BASE = { KUBE_WORKER_API_TOKEN: 'token-0123456789abcdef' };
const read = (env: Record<string, string>) => readConfig({ ...BASE, ...env });

describe('the OTEL_* settings', () => {
  it('turn traces off when no endpoint is set', () => {
    const config = read({});
    expect(tracesUrl(config)).toBeUndefined();
    expect(config).toMatchObject({ otlpHeaders: {}, tracesSampler: 'parentbased_always_on', tracesSamplerRatio: 1 });
  });

  it('send to the base endpoint’s /v1/traces, or to the traces endpoint as it is', () => {
    expect(tracesUrl(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }))).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com/otlp' }))).toBe('https://otlp.example.com/otlp/v1/traces');
    expect(tracesUrl(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/traces' }))).toBe(
      'http://b:4318/traces',
    );
  });

  it('read the headers as percent-encoded key=value pairs, and never quote a value when refusing them', () => {
    expect(read({ OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc, x-tenant=blue' }).otlpHeaders).toEqual({
      authorization: 'Bearer abc',
      'x-tenant': 'blue',
    });
    expect(() => read({ OTEL_EXPORTER_OTLP_HEADERS: 'no-equals-sign-s3cret' })).toThrow(/OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs/);
    expect(() => read({ OTEL_EXPORTER_OTLP_HEADERS: 'x=%zz-s3cret' })).toThrow(/"x" is not valid percent-encoding/);
    for (const bad of ['no-equals-sign-s3cret', 'x=%zz-s3cret']) expect(() => read({ OTEL_EXPORTER_OTLP_HEADERS: bad })).not.toThrow(/s3cret/);
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318', /http:\/\/ or https:\/\/ URL/],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'grpc://collector:4317', /http:\/\/ or https:\/\/ URL/],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'http://user:pw@collector:4318', /no credentials/],
    ['OTEL_TRACES_SAMPLER', 'jaeger_remote', /OTEL_TRACES_SAMPLER must be/],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5', /from 0 to 1/],
  ])('refuse %s=%s', (env, value, message) => {
    expect(() => read({ [env]: value })).toThrow(message);
  });
});

describe('a traceparent', () => {
  const text = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('reads and writes back the same', () => {
    expect(parseTraceparent(text)).toEqual({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', flags: 1 });
    expect(formatTraceparent(parseTraceparent(text)!)).toBe(text);
  });

  it.each([
    ['another version', text.replace(/^00/, 'ff')],
    ['a zero trace id', `00-${'0'.repeat(32)}-b7ad6b7169203331-01`],
    ['a zero span id', `00-0af7651916cd43dd8448eb211c80319c-${'0'.repeat(16)}-01`],
    ['upper case', text.toUpperCase()],
    ['text after it', `${text}-extra`],
    ['no string', 42],
  ])('is none when it has %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });
});
