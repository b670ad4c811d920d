/**
 * The chart's values.yaml in step with the settings declared in core/config*.ts: each setting the
 * chart fills from a value is a declared one, its value's comment names the variable (whose meaning
 * and default the README's table gives, kept in step by readme-settings.test.ts), and the chart's
 * default is the setting's own unless it differs on purpose, for the reason given here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isPair, isScalar, parseDocument, type Pair } from 'yaml';
import { SETTINGS } from '../../core/config.js';

const CHART = path.resolve(import.meta.dirname, '../../charts/kube-worker');

/** Settings whose chart default is not the product's, and why. */
const CHART_DEFAULTS: Record<string, string> = {
  KUBE_WORKER_INSTANCE: 'empty in values.yaml: the template puts the release name in its place',
  KUBE_WORKER_SHUTDOWN_DELAY_SECONDS: 'behind a Service a dispatcher must outlast the endpoints changing; `npm start` and compose have no Service to wait for',
};

/** Every `- name: KUBE_WORKER_…` whose value is read straight from one value of the chart, with that value's path. */
function settingsFromValues(): Array<[env: string, valuePath: string]> {
  const templates = readdirSync(path.join(CHART, 'templates'))
    .map((file) => readFileSync(path.join(CHART, 'templates', file), 'utf8'))
    .join('\n');
  const found = templates.matchAll(/- name: (KUBE_WORKER_\w+)\s*\n\s*value: \{\{ (?:join "," )?(\.Values\.[\w.]+|\$script\.[\w.]+)/g);
  return [...found].map(([, env, value]) => [env!, value!.replace(/^\$script\./, 'scriptPods.').replace(/^\.Values\./, '')]);
}

const values = parseDocument(readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));

/** The value at `valuePath`, and the comments above its key and above each key that holds it, nearest first. */
function lookUp(valuePath: string): { value: unknown; comments: string[] } {
  const comments: string[] = [];
  let node: unknown = values.contents;
  for (const key of valuePath.split('.')) {
    if (!isMap(node)) throw new Error(`values.yaml has no ${valuePath}`);
    const pair = node.items.find((item): item is Pair => isPair(item) && isScalar(item.key) && item.key.value === key);
    if (!pair) throw new Error(`values.yaml has no ${valuePath}`);
    comments.unshift((pair.key as { commentBefore?: string }).commentBefore ?? '');
    node = pair.value;
  }
  return { value: isScalar(node) ? node.value : (node as { toJSON(): unknown }).toJSON(), comments };
}

/** A value as its variable says it (the templates join lists with commas). */
const asVariable = (value: unknown): string => (Array.isArray(value) ? value.join(',') : String(value));

/** Whether a comment names `env`, itself or as a family (KUBE_WORKER_SCRIPT_*). */
const names = (comment: string, env: string): boolean =>
  [...comment.matchAll(/KUBE_WORKER_[A-Z0-9_]+\*?/g)].some(([named]) => (named.endsWith('*') ? env.startsWith(named.slice(0, -1)) : named === env));

describe("the chart's values", () => {
  const exposed = settingsFromValues();
  const declared = new Map(SETTINGS.map((s) => [s.env, s]));

  it('fill settings from plain values (the test reads the templates)', () => {
    expect(exposed.length).toBeGreaterThan(10);
  });

  it.each(exposed)('%s (from %s) is a declared setting, named in its comment, with the setting’s default', (env, valuePath) => {
    const setting = declared.get(env);
    expect(setting, `${env} is not declared in core/config*.ts`).toBeDefined();
    const { value, comments } = lookUp(valuePath);
    expect(
      comments.some((comment) => names(comment, env)),
      `the comment of ${valuePath} in values.yaml names ${env}`,
    ).toBe(true);
    if (!(env in CHART_DEFAULTS)) expect(asVariable(value), `${valuePath} in values.yaml`).toBe(setting!.default);
  });

  it('name only declared settings in their comments', () => {
    const named = [...readFileSync(path.join(CHART, 'values.yaml'), 'utf8').matchAll(/KUBE_WORKER_[A-Z0-9_]+\*?/g)].map(([env]) => env);
    const unknown = named.filter((env) => !(env.endsWith('*') ? SETTINGS.some((s) => s.env.startsWith(env.slice(0, -1))) : declared.has(env)));
    expect(unknown).toEqual([]);
  });

  it('list as differing on purpose only settings whose chart default does differ', () => {
    const same = Object.keys(CHART_DEFAULTS).filter((env) => {
      const valuePath = exposed.find(([exposedEnv]) => exposedEnv === env)?.[1];
      return valuePath === undefined || asVariable(lookUp(valuePath).value) === declared.get(env)?.default;
    });
    expect(same).toEqual([]);
  });
});
