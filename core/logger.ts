/**
 * The one logger. Redaction removes tokens, passwords and anything an operation carries that may be
 * secret (script bodies, file contents, variable values) wherever they appear in a log object.
 * This is also the one place that decides how lines look: JSON, or readable lines on a terminal.
 */
import { isatty } from 'node:tty';
import { pino, type Logger } from 'pino';
import type { LogFormat } from './config-observability.js';
import { prettyLine } from './log-pretty.js';

export type { Logger };

/**
 * Readable lines for `pretty`, and for `auto` on a terminal, JSON otherwise (pino's own convention:
 * JSON for files and pipes); colour only on a terminal, and never when NO_COLOR is set to anything
 * but the empty string (no-color.org).
 */
export function lineStyle(
  format: LogFormat,
  destination: number | string,
  isTerminal: (fd: number) => boolean = isatty,
  env: NodeJS.ProcessEnv = process.env,
): { pretty: boolean; colour: boolean } {
  const terminal = typeof destination === 'number' && isTerminal(destination);
  return { pretty: format === 'pretty' || (format === 'auto' && terminal), colour: terminal && !env.NO_COLOR };
}

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
  'redisSentinelPassword',
  'sentinelPassword',
  '*.sentinelPassword',
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

/** Log lines are buffered up to this many bytes, and never held longer than FLUSH_MS. */
const BUFFER_BYTES = 4096;
const FLUSH_MS = 250;

/**
 * Writes to stdout (or `destination`, a file) through a buffer: on a busy dispatcher one write per
 * request line costs more than the request's own work. What is buffered goes out within
 * FLUSH_MS, and at exit.
 */
const buffered = new Set<{ flushSync(): void }>();

function flushAllAtExit(): void {
  for (const stream of buffered) stream.flushSync();
}

export function createLogger(level: string, name: string, destination: number | string = 1, format: LogFormat = 'auto'): Logger {
  const stream = pino.destination({ dest: destination, sync: false, minLength: BUFFER_BYTES });
  const flush = setInterval(() => stream.flush(), FLUSH_MS);
  flush.unref();
  if (buffered.size === 0) process.once('exit', flushAllAtExit);
  buffered.add(stream);
  const { pretty, colour } = lineStyle(format, destination);
  // pino redacts before it writes, so the readable form is made from lines already redacted.
  const out = pretty
    ? { write: (line: string) => stream.write(prettyLine(line, colour)), flush: (done?: (error?: Error) => void) => stream.flush(done) }
    : stream;
  return pino({ name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { service: name } }, out);
}
