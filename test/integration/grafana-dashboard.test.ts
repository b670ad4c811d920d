/**
 * The chart's Grafana dashboard asks only for metrics the product exports: every metric name (and
 * label) in its queries is checked against the /metrics of a real running dispatcher and executor.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape, type Samples } from './support/metrics.js';
import { bash, startStack, type Stack } from './support/stack.js';

const DASHBOARD = path.resolve(import.meta.dirname, '../../charts/kube-worker/dashboards/kube-worker.json');

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: Array<{ name: string; definition?: string }> } };

/** Every query of the dashboard: the panels' and the variables' (label_values(metric, label) as a selector of that metric). */
function queries(): Array<{ where: string; expr: string }> {
  const found: Array<{ where: string; expr: string }> = [];
  const walk = (panels: Panel[]): void => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) found.push({ where: panel.title, expr: target.expr });
      walk(panel.panels ?? []);
    }
  };
  walk(dashboard.panels);
  for (const variable of dashboard.templating.list) {
    const labelValues = /^label_values\((\w+),\s*(\w+)\)$/.exec(variable.definition ?? '');
    if (labelValues) found.push({ where: `variable ${variable.name}`, expr: `sum by (${labelValues[2]}) (${labelValues[1]})` });
  }
  return found;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset']);

/** The metric names a PromQL expression selects: identifiers that are no function, keyword, label or Grafana variable. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\$\w+/g, '');
  return [...bare.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)].map((m) => m[1]!).filter((name) => !KEYWORDS.has(name));
}

/** The label names an expression matches on or groups by ("le" of a histogram's buckets aside). */
function labelNames(expr: string): string[] {
  const names = new Set<string>();
  for (const [, matchers] of expr.matchAll(/\{([^}]*)\}/g)) for (const [, label] of matchers!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) names.add(label!);
  for (const [, list] of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) for (const label of list!.split(',')) names.add(label.trim());
  names.delete('le');
  names.delete('');
  return [...names];
}

/** Each sample name a page's metrics have: a histogram's as _bucket, _sum and _count. */
function exported(page: Samples): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of page.text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else names.add(name!);
  }
  return names;
}

/** The labels each sample name carries on the page (only metrics that have samples). */
function labelsByName(page: Samples): Map<string, Set<string>> {
  const labels = new Map<string, Set<string>>();
  for (const [, name, list] of page.text.matchAll(/^([a-zA-Z_:][\w:]*)\{([^}]*)\} /gm)) {
    const set = labels.get(name!) ?? new Set<string>();
    for (const [, label] of list!.matchAll(/(\w+)="/g)) set.add(label!);
    labels.set(name!, set);
  }
  return labels;
}

describe('the Grafana dashboard', () => {
  it('reads the metric names and labels out of PromQL', () => {
    const expr =
      'histogram_quantile(0.95, sum by (le, pool) (rate(kube_worker_operation_run_seconds_bucket{pool=~"$pool", outcome!="ok"}[$__rate_interval]))) * 60';
    expect(metricNames(expr)).toEqual(['kube_worker_operation_run_seconds_bucket']);
    expect(labelNames(expr).sort()).toEqual(['outcome', 'pool']);
    expect(metricNames('sum(increase(a_total[5m])) / sum(b) and on (pool) c')).toEqual(['a_total', 'b', 'c']);
  });

  describe('against the /metrics of a running dispatcher and executor', () => {
    let stack: Stack;
    let page: Samples;
    beforeAll(async () => {
      stack = await startStack();
      // Operations that succeed and fail, so that the operation metrics have samples whose labels can be read.
      await stack.waitUntilDone(await stack.submit(bash('echo ok')));
      await stack.waitUntilDone(await stack.submit(bash('exit 3')));
      // The counters move once the executor has recorded each outcome, just before its job completes.
      for (const deadline = Date.now() + 15_000; ; await new Promise((r) => setTimeout(r, 100))) {
        page = await scrape(`${stack.url}/metrics`);
        if (page.value('kube_worker_operations_total') === 2 || Date.now() > deadline) break;
      }
    });
    afterAll(() => stack?.close());

    const all = queries();

    it('has queries for queue depth, throughput, every phase and failures by reason', () => {
      const selected = new Set(all.flatMap(({ expr }) => metricNames(expr)));
      for (const name of [
        'kube_worker_queue_depth',
        'kube_worker_operations_total',
        'kube_worker_operation_queued_seconds_bucket',
        'kube_worker_operation_pending_seconds_bucket',
        'kube_worker_operation_run_seconds_bucket',
        'kube_worker_operation_pod_start_seconds_bucket',
        'kube_worker_operation_image_pull_seconds_bucket',
      ])
        expect(selected, name).toContain(name);
      expect(all.some(({ expr }) => expr.includes('kube_worker_operations_total') && labelNames(expr).includes('reason'))).toBe(true);
    });

    it.each(all.map((q) => [q.where, q.expr]))('%s: %s selects only exported metrics, by their labels', (_where, expr) => {
      const names = metricNames(expr);
      expect(names.length).toBeGreaterThan(0);
      const known = exported(page);
      for (const name of names) expect(known, `${name} is not on /metrics`).toContain(name);
      // Labels can be read only off metrics with samples; the operation metrics have some by now.
      const labels = labelsByName(page);
      for (const name of names.filter((n) => labels.has(n)))
        for (const label of labelNames(expr)) expect(labels.get(name), `${name} has no label ${label}`).toContain(label);
    });

    it('has samples, and so checked labels, for the queue and operation metrics', () => {
      const labels = labelsByName(page);
      for (const name of [
        'kube_worker_queue_depth',
        'kube_worker_operations_total',
        'kube_worker_operation_queued_seconds_bucket',
        'kube_worker_operations_in_flight',
      ])
        expect(labels.has(name), name).toBe(true);
    });
  });
});
