/**
 * kube-worker's logger writing to a file instead of stdout: createLogger itself (level, redaction,
 * buffering), so the benchmark pays what production pays per log line; only the destination differs.
 */
import { readFileSync } from 'node:fs';
import { createLogger, type Logger } from '../../core/logger.js';

export function fileLogger(file: string, name: string): Logger {
  return createLogger('info', name, file);
}

/** Lines in a log file that carry `msg`: evidence that logging was on during a round. */
export function countLogLines(file: string, msg: string): number {
  const needle = `"msg":${JSON.stringify(msg)}`;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.includes(needle)).length;
}
