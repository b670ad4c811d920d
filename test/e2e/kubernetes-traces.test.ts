/**
 * Traces of an operation run as a Kubernetes Job on a real cluster: its Kubernetes API calls are
 * spans of the operation's trace, sent with the rest to a real OpenTelemetry Collector (test/otel).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import type { Tracing } from '../../core/tracing.js';
import { startTracing } from '../../core/tracing-start.js';
import { bash } from '../integration/support/stack.js';
import { describeWithCollector, startCollector, type Collector } from '../otel/collector.js';
import { describeCluster } from './support/cluster.js';
import { useKubeWorker } from './support/kube-worker.js';

describeCluster('traces on Kubernetes', () => {
  describeWithCollector('to a real Collector', () => {
    let collector: Collector;
    let tracing: Tracing;
    // Before the fixture's own: its dispatcher and executor are made with these traces.
    beforeAll(async () => {
      collector = await startCollector();
      const config = readConfig({ KUBE_WORKER_API_TOKEN: 'unused-token-0123456789', OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint });
      tracing = await startTracing(config, 'kube-worker', createLogger('silent', 'e2e'));
    }, 30 * 60_000);
    const kw = useKubeWorker('traces', {}, { tracing: () => tracing });
    beforeAll(() => kw.addExecutor());
    afterAll(async () => {
      await tracing?.shutdown();
      await collector?.stop();
    });

    it("has the Kubernetes calls made for an operation as spans of the operation's trace", async () => {
      const ticket = await kw.stack.submit(bash('echo traced on the node'));
      expect((await kw.stack.waitUntilDone(ticket, 120_000)).state).toBe('succeeded');

      const traceOf = () => {
        const spans = collector.spans();
        const own = spans.find((s) => s.name === 'operation' && s.attributes['kube_worker.ticket'] === ticket);
        return own ? spans.filter((s) => s.traceId === own.traceId) : [];
      };
      // The Job is created and, once the result is safe, released.
      await expect
        .poll(() => traceOf().map((s) => s.name), { timeout: 30_000, interval: 250 })
        .toEqual(expect.arrayContaining(['POST /api/v1/operations', 'queue wait', 'operation', 'start', 'run', 'kubernetes create', 'kubernetes delete']));
      const trace = traceOf();
      const operation = trace.find((s) => s.name === 'operation')!;
      const calls = trace.filter((s) => s.name.startsWith('kubernetes '));
      for (const call of calls) {
        expect(call.parentSpanId, call.name).toBe(operation.spanId);
        expect(call.attributes['kube_worker.kubernetes.verb']).toBe(call.name.slice('kubernetes '.length));
        expect(call.attributes['kube_worker.kubernetes.status_code'], call.name).toBeTypeOf('number');
      }
      expect(calls.find((s) => s.name === 'kubernetes create')!.attributes['kube_worker.kubernetes.status_code']).toBe(200);
      // One trace: every span that names the ticket is in it.
      expect(
        new Set(
          collector
            .spans()
            .filter((s) => s.attributes['kube_worker.ticket'] === ticket)
            .map((s) => s.traceId),
        ).size,
      ).toBe(1);
      expect(collector.text()).not.toContain('traced on the node');
    });
  });
});
