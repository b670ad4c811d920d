/**
 * Traces, end to end on the local runtime: a dispatcher and an executor started by the CLI as an
 * operator starts them, with OTEL_EXPORTER_OTLP_ENDPOINT on a real OpenTelemetry Collector
 * (test/otel), which writes what it receives to a file that this test reads back.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, inject, it } from 'vitest';
import { describeWithCollector, startCollector, type Collector, type ExportedSpan } from '../otel/collector.js';
import { startDispatcher, startExecutor, TOKEN, type CliProcess, type Deployment } from '../faults/support/cli-process.js';

const RECORD_LOADS = path.resolve(import.meta.dirname, '../otel/record-loads.mjs');
/** OTLP's span status code for an error. */
const STATUS_ERROR = 2;

describeWithCollector('traces over OTLP', () => {
  let collector: Collector;
  const processes: CliProcess[] = [];
  let scratch: string;

  // The first run on a machine builds the collector (minutes); later ones find it in the cache.
  beforeAll(async () => {
    collector = await startCollector();
    scratch = mkdtempSync(path.join(tmpdir(), 'kube-worker-traces-'));
    // Scripts of a root executor run as other users, who must be let through to their work dirs.
    chmodSync(scratch, 0o711);
  }, 30 * 60_000);
  afterEach(async () => {
    for (const p of processes.splice(0)) await p.kill('SIGKILL');
  });
  afterAll(() => collector?.stop());

  /** A dispatcher and an executor of a deployment of their own, each recording the @opentelemetry modules it loads. */
  async function deploy(env: Record<string, string>): Promise<{ url: string; loads: string[] }> {
    const prefix = `tr${randomBytes(4).toString('hex')}`;
    const deployment: Deployment = { redisUrl: inject('redisUrl'), prefix, workDir: path.join(scratch, prefix) };
    const loadsFile = path.join(scratch, `${prefix}-loads`);
    const withHook = { ...env, NODE_OPTIONS: `--import=${RECORD_LOADS}`, KW_TEST_LOADS_FILE: loadsFile };
    const dispatcher = await startDispatcher(deployment, withHook);
    processes.push(dispatcher);
    processes.push(await startExecutor(deployment, withHook));
    return {
      url: dispatcher.url,
      get loads() {
        return existsSync(loadsFile) ? readFileSync(loadsFile, 'utf8').split('\n').filter(Boolean) : [];
      },
    };
  }

  async function submit(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
    const response = await fetch(`${url}/api/v1/operations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { ticket: string }).ticket;
  }

  async function waitUntilEnded(url: string, ticket: string): Promise<string> {
    let state = '';
    await expect
      .poll(
        async () => {
          const response = await fetch(`${url}/api/v1/operations/${ticket}`, { headers: { authorization: `Bearer ${TOKEN}` } });
          state = ((await response.json()) as { state: string }).state;
          return ['succeeded', 'failed', 'cancelled'].includes(state);
        },
        { timeout: 60_000, interval: 200 },
      )
      .toBe(true);
    return state;
  }

  const ofTicket = (spans: ExportedSpan[], ticket: string): ExportedSpan[] => spans.filter((s) => s.attributes['kube_worker.ticket'] === ticket);

  it('sends one trace per operation: its request, queue wait, run and outcome, with ticket and pool, and nothing of its script or secrets', async () => {
    const { url, loads } = await deploy({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint });
    const secret = `s3cret-${randomBytes(6).toString('hex')}`;
    const scriptMarker = `script-marker-${randomBytes(6).toString('hex')}`;
    const fileSecret = `file-secret-${randomBytes(6).toString('hex')}`;
    // A client that traces its own work passes its traceparent: the operation joins that trace.
    const clientTrace = randomBytes(16).toString('hex');
    const clientSpan = randomBytes(8).toString('hex');

    const plain = await submit(url, { pool: 'default', script: { syntax: 'bash', body: 'echo hello' } });
    const sensitive = await submit(
      url,
      {
        pool: 'default',
        script: { syntax: 'bash', body: `echo ${scriptMarker}; test -n "$DEPLOY_KEY"; cat key.txt >/dev/null; exit 3` },
        variables: { DEPLOY_KEY: { value: secret, sensitive: true } },
        files: [{ name: 'key.txt', content: Buffer.from(fileSecret).toString('base64'), sensitive: true }],
      },
      { traceparent: `00-${clientTrace}-${clientSpan}-01` },
    );
    expect(await waitUntilEnded(url, plain)).toBe('succeeded');
    expect(await waitUntilEnded(url, sensitive)).toBe('failed');

    // Spans are sent in batches, a second apart.
    const spansOf = (ticket: string) => ofTicket(collector.spans(), ticket);
    for (const ticket of [plain, sensitive])
      await expect
        .poll(
          () =>
            spansOf(ticket)
              .map((s) => s.name)
              .sort(),
          { timeout: 30_000, interval: 250 },
        )
        .toEqual(['POST /api/v1/operations', 'operation', 'queue wait', 'run', 'start']);
    const spans = collector.spans();

    for (const ticket of [plain, sensitive]) {
      const own = ofTicket(spans, ticket);
      const traceIds = new Set(own.map((s) => s.traceId));
      expect(traceIds.size, `one trace for ${ticket}`).toBe(1);
      const trace = spans.filter((s) => traceIds.has(s.traceId));
      const named = (name: string) => trace.find((s) => s.name === name)!;
      const request = named('POST /api/v1/operations');
      // Across the queue: the executor's spans hang from the request's.
      expect(named('queue wait').parentSpanId).toBe(request.spanId);
      expect(named('operation').parentSpanId).toBe(request.spanId);
      expect(named('start').parentSpanId).toBe(named('operation').spanId);
      expect(named('run').parentSpanId).toBe(named('operation').spanId);
      expect(request.service).toBe('kube-worker-dispatcher');
      expect(named('operation').service).toBe('kube-worker-executor');
      for (const span of own) expect(span.attributes['kube_worker.pool'], span.name).toBe('default');
      expect(request.attributes['http.response.status_code']).toBe(202);
      // Nothing else of these operations' was traced: each of their spans is one of these five.
      expect(trace).toHaveLength(5);
    }

    const sensitiveTrace = spans.filter((s) => s.traceId === ofTicket(spans, sensitive)[0]!.traceId);
    expect(sensitiveTrace[0]!.traceId).toBe(clientTrace);
    expect(sensitiveTrace.find((s) => s.name === 'POST /api/v1/operations')!.parentSpanId).toBe(clientSpan);
    const failed = sensitiveTrace.find((s) => s.name === 'operation')!;
    expect(failed.status).toMatchObject({ code: STATUS_ERROR, message: 'ScriptFailed' });
    expect(failed.attributes).toMatchObject({ 'kube_worker.outcome': 'failed', 'kube_worker.reason': 'ScriptFailed' });

    // The whole file, every attribute and event of every span: no script, variable or file.
    const exported = collector.text();
    for (const text of [secret, scriptMarker, fileSecret, 'DEPLOY_KEY', 'key.txt', 'echo hello']) expect(exported).not.toContain(text);
    expect(loads.some((url) => url.includes('/@opentelemetry/sdk-trace/'))).toBe(true);
  });

  it('loads none of OpenTelemetry’s SDK or exporter without OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const { url, loads } = await deploy({});
    const ticket = await submit(url, { pool: 'default', script: { syntax: 'bash', body: 'echo untraced' } });
    expect(await waitUntilEnded(url, ticket)).toBe('succeeded');
    // prom-client's default metrics require the API package (a facade that does nothing without an
    // SDK) for their exemplars, with or without traces: everything else must stay unloaded.
    expect(loads.some((url) => url.includes('/@opentelemetry/api/'))).toBe(true);
    expect(loads.filter((url) => !url.includes('/@opentelemetry/api/'))).toEqual([]);
    expect(ofTicket(collector.spans(), ticket)).toEqual([]);
  });
});
