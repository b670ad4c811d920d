import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../core/config.js';

const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;

describe('the instance of a deployment', () => {
  it.each<[string, NodeJS.ProcessEnv, string]>([
    ['the default prefix', {}, 'kw'],
    ['a prefix', { KUBE_WORKER_PREFIX: 'team_a-1' }, 'team_a-1'],
    ['a prefix that ends in punctuation, cleaned for a label', { KUBE_WORKER_PREFIX: '_team-' }, 'team'],
    ['the setting over the prefix', { KUBE_WORKER_PREFIX: 'kw', KUBE_WORKER_INSTANCE: 'release-a' }, 'release-a'],
    ['a setting of 63 characters', { KUBE_WORKER_INSTANCE: 'r'.repeat(63) }, 'r'.repeat(63)],
  ])('is taken from %s', (_case, env, instance) => {
    expect(readConfig(env).instance).toBe(instance);
  });

  it('is a label value even for a prefix of punctuation only', () => {
    const { instance } = readConfig({ KUBE_WORKER_PREFIX: '_-_' });
    expect(instance).toMatch(LABEL_VALUE);
    expect(readConfig({ KUBE_WORKER_PREFIX: '___' }).instance).not.toBe(instance);
  });

  it.each(['-bad', 'has space', 'r'.repeat(64), 'a/b'])('refuses %s', (value) => {
    expect(() => readConfig({ KUBE_WORKER_INSTANCE: value })).toThrow(ConfigError);
    expect(() => readConfig({ KUBE_WORKER_INSTANCE: value })).toThrow(/KUBE_WORKER_INSTANCE/);
  });
});

describe('the user scripts run as', () => {
  it('is a non-root user and group by default', () => {
    expect(readConfig({})).toMatchObject({ scriptRunAsUser: 1000, scriptRunAsGroup: 1000 });
  });

  it('can be chosen', () => {
    expect(readConfig({ KUBE_WORKER_SCRIPT_RUN_AS_USER: '65532', KUBE_WORKER_SCRIPT_RUN_AS_GROUP: '65533' })).toMatchObject({
      scriptRunAsUser: 65532,
      scriptRunAsGroup: 65533,
    });
  });

  it.each(['0', '-1', 'root'])('is never root or not a number: refuses %s', (value) => {
    expect(() => readConfig({ KUBE_WORKER_SCRIPT_RUN_AS_USER: value })).toThrow(/KUBE_WORKER_SCRIPT_RUN_AS_USER/);
  });
});
