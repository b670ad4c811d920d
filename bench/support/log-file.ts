/**
 * kube-worker's logger, writing to a file instead of stdout. The options are createLogger's
 * (level, redaction, base fields), so the benchmark pays what production pays per log line; only
 * the destination differs, so the terminal stays readable.
 */
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { REDACTED_PATHS } from '../../core/logger.js';

export function fileLogger(file: string, name: string): Logger {
  // Synchronous like pino's default stdout destination.
  return pino(
    { name, level: 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { service: name } },
    pino.destination({ dest: file, sync: true }),
  );
}

/** Lines in a log file that carry `msg`: evidence that logging was on during a round. */
export function countLogLines(file: string, msg: string): number {
  const needle = `"msg":${JSON.stringify(msg)}`;
  return readFileSync(file, 'utf8').split('\n').filter((line) => line.includes(needle)).length;
}
