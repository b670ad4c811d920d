/**
 * Settings of what operators look at: the log format, the dashboard's own credentials and the
 * executor's metrics port. Part of the one configuration read at start-up (core/config.ts).
 */
import { boolean, ConfigError, integer, oneOf, type SettingOf } from './config-parsers.js';

type Setting<K extends keyof ObservabilityConfig> = SettingOf<ObservabilityConfig, K>;

/** KUBE_WORKER_LOG_FORMAT; core/logger.ts decides what auto means. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface ObservabilityConfig {
  /** How log lines look. */
  logFormat: LogFormat;
  /** Dashboard user; the dashboard is off unless user and password are both set. */
  dashboardUser: string | undefined;
  dashboardPassword: string | undefined;
  /** Lets dashboard users change queues (clean, remove, pause, promote); read-only otherwise. */
  dashboardWrite: boolean;
  /** Where `kube-worker executor` serves its metrics; 0 for nowhere. */
  metricsPort: number;
}

export const OBSERVABILITY_SETTINGS = [
  {
    env: 'KUBE_WORKER_LOG_FORMAT', key: 'logFormat', defaultText: 'auto',
    description: 'How the server commands log: json (one JSON object a line), pretty (time, level, message and fields, coloured on a terminal unless NO_COLOR is set), or auto (pretty when stdout is a terminal, else json). Redaction is the same in both.',
    parse: (raw) => oneOf<LogFormat>('KUBE_WORKER_LOG_FORMAT', raw, LOG_FORMATS, 'auto'),
  } satisfies Setting<'logFormat'>,
  {
    env: 'KUBE_WORKER_DASHBOARD_USER', key: 'dashboardUser', defaultText: 'none: the dashboard is off',
    description: 'User of the queue dashboard at /dashboard (HTTP basic auth, separate from the API token). The dashboard is on only when user and password are both set.',
    parse: (raw) => {
      if (raw === undefined || raw === '') return undefined;
      if (raw.includes(':')) throw new ConfigError('KUBE_WORKER_DASHBOARD_USER must not contain ":" (HTTP basic auth separates user and password with it)');
      return raw;
    },
  } satisfies Setting<'dashboardUser'>,
  {
    env: 'KUBE_WORKER_DASHBOARD_PASSWORD', key: 'dashboardPassword', defaultText: 'none: the dashboard is off',
    description: 'Password of the queue dashboard, at least 12 characters.',
    parse: (raw) => {
      if (raw === undefined || raw === '') return undefined;
      if (raw.length < 12) throw new ConfigError('KUBE_WORKER_DASHBOARD_PASSWORD must be at least 12 characters');
      return raw;
    },
  } satisfies Setting<'dashboardPassword'>,
  {
    env: 'KUBE_WORKER_DASHBOARD_WRITE', key: 'dashboardWrite', defaultText: 'false',
    description: 'true lets dashboard users clean, remove, pause and promote jobs; otherwise the dashboard is read-only.',
    parse: (raw) => boolean('KUBE_WORKER_DASHBOARD_WRITE', raw, false),
  } satisfies Setting<'dashboardWrite'>,
  {
    env: 'KUBE_WORKER_METRICS_PORT', key: 'metricsPort', defaultText: '9464',
    description: 'Port on which `kube-worker executor` serves its Prometheus metrics at /metrics and its probes at /livez and /readyz; 0 serves none. `start` shows them on the API\'s /metrics instead.',
    parse: (raw) => integer('KUBE_WORKER_METRICS_PORT', raw, 9464, 0, 65535),
  } satisfies Setting<'metricsPort'>,
] as const;

/** Problems that span two settings; each message names both. */
export function observabilityProblems(config: Partial<ObservabilityConfig>): string[] {
  if ((config.dashboardUser === undefined) !== (config.dashboardPassword === undefined)) {
    return ['KUBE_WORKER_DASHBOARD_USER and KUBE_WORKER_DASHBOARD_PASSWORD must be set together (or neither, which turns the dashboard off)'];
  }
  return [];
}
