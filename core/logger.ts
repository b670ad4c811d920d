/**
 * The one logger. Redaction removes tokens, passwords and anything an operation carries that may be
 * secret (script bodies, file contents, variable values) wherever they appear in a log object.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  'tokens',
  'apiTokens',
  'password',
  'redisUrl',
  '*.password',
  '*.token',
  'body.script',
  'body.files',
  'body.variables',
  'request.script',
  'request.files',
  'request.variables',
  'variables.*.value',
  'files[*].content',
  'script.body',
];

export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: name },
  });
}
