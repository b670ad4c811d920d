/**
 * Settings of what operators look at: the log format, the dashboard's own credentials and the
 * executor's metrics port. Part of the one configuration read at start-up (core/config.ts).
 */
import { boolean, ConfigError, integer, oneOf, setting, type ConfigOf } from './config-parsers.js';

/** KUBE_WORKER_LOG_FORMAT; core/logger.ts decides what auto means. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const OBSERVABILITY_SETTINGS = [
  setting({
    env: 'KUBE_WORKER_LOG_FORMAT',
    key: 'logFormat',
    default: 'auto',
    description:
      'How the server commands log: json (one JSON object a line), pretty (time, level, message and fields, coloured on a terminal unless NO_COLOR is set), or auto (pretty when stdout is a terminal, else json). Redaction is the same in both.',
    parse: oneOf<LogFormat>(LOG_FORMATS),
  }),
  setting({
    env: 'KUBE_WORKER_DASHBOARD_USER',
    key: 'dashboardUser',
    defaultNote: 'none: the dashboard is off',
    description:
      'User of the queue dashboard at /dashboard (HTTP basic auth, separate from the API token). The dashboard is on only when user and password are both set.',
    parse: (raw) => {
      if (raw === undefined || raw === '') return undefined;
      if (raw.includes(':')) throw new ConfigError('KUBE_WORKER_DASHBOARD_USER must not contain ":" (HTTP basic auth separates user and password with it)');
      return raw;
    },
  }),
  setting({
    env: 'KUBE_WORKER_DASHBOARD_PASSWORD',
    key: 'dashboardPassword',
    defaultNote: 'none: the dashboard is off',
    description: 'Password of the queue dashboard, at least 12 characters.',
    parse: (raw) => {
      if (raw === undefined || raw === '') return undefined;
      if (raw.length < 12) throw new ConfigError('KUBE_WORKER_DASHBOARD_PASSWORD must be at least 12 characters');
      return raw;
    },
  }),
  setting({
    env: 'KUBE_WORKER_DASHBOARD_WRITE',
    key: 'dashboardWrite',
    default: 'false',
    description: 'true lets dashboard users clean, remove, pause and promote jobs; otherwise the dashboard is read-only.',
    parse: boolean,
  }),
  setting({
    env: 'KUBE_WORKER_METRICS_PORT',
    key: 'metricsPort',
    default: '9464',
    description:
      "Port on which `kube-worker executor` serves its Prometheus metrics at /metrics and its probes at /livez and /readyz; 0 serves none. `start` shows them on the API's /metrics instead.",
    parse: integer(0, 65535),
  }),
] as const;

export type ObservabilityConfig = ConfigOf<typeof OBSERVABILITY_SETTINGS>;

/** Problems that span two settings; each message names both. */
export function observabilityProblems(config: Partial<ObservabilityConfig>): string[] {
  if ((config.dashboardUser === undefined) !== (config.dashboardPassword === undefined)) {
    return ['KUBE_WORKER_DASHBOARD_USER and KUBE_WORKER_DASHBOARD_PASSWORD must be set together (or neither, which turns the dashboard off)'];
  }
  return [];
}
