import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig, type Config } from '../../core/config.js';

const PASSWORD = 'a-dashboard-password';

function problem(env: NodeJS.ProcessEnv): string {
  try {
    readConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('dashboard and metrics settings', () => {
  it('keep the dashboard off, read-only, and executor metrics on port 9464 by default', () => {
    expect(readConfig({})).toMatchObject<Partial<Config>>({ dashboardUser: undefined, dashboardPassword: undefined, dashboardWrite: false, metricsPort: 9464 });
  });

  it.each<[string, NodeJS.ProcessEnv, Partial<Config>]>([
    [
      'dashboard credentials',
      { KUBE_WORKER_DASHBOARD_USER: 'ops', KUBE_WORKER_DASHBOARD_PASSWORD: PASSWORD },
      { dashboardUser: 'ops', dashboardPassword: PASSWORD },
    ],
    ['a writable dashboard', { KUBE_WORKER_DASHBOARD_WRITE: 'true' }, { dashboardWrite: true }],
    ['no executor metrics listener', { KUBE_WORKER_METRICS_PORT: '0' }, { metricsPort: 0 }],
  ])('reads %s', (_case, env, expected) => {
    expect(readConfig(env)).toMatchObject(expected);
  });

  it.each<[string, NodeJS.ProcessEnv, string]>([
    ['a user without a password', { KUBE_WORKER_DASHBOARD_USER: 'ops' }, 'must be set together'],
    ['a password without a user', { KUBE_WORKER_DASHBOARD_PASSWORD: PASSWORD }, 'must be set together'],
    ['a user with a colon', { KUBE_WORKER_DASHBOARD_USER: 'ops:team', KUBE_WORKER_DASHBOARD_PASSWORD: PASSWORD }, 'must not contain ":"'],
    ['a short password', { KUBE_WORKER_DASHBOARD_USER: 'ops', KUBE_WORKER_DASHBOARD_PASSWORD: 'short' }, 'at least 12 characters'],
    ['a write flag that is not a boolean', { KUBE_WORKER_DASHBOARD_WRITE: 'sometimes' }, 'KUBE_WORKER_DASHBOARD_WRITE must be true or false'],
    ['a metrics port out of range', { KUBE_WORKER_METRICS_PORT: '70000' }, 'KUBE_WORKER_METRICS_PORT must be between 0 and 65535'],
  ])('refuses %s', (_case, env, detail) => {
    expect(problem(env)).toContain(detail);
  });

  it('keeps the dashboard password out of its error', () => {
    expect(problem({ KUBE_WORKER_DASHBOARD_PASSWORD: 'tooshort1' })).not.toContain('tooshort1');
  });
});
