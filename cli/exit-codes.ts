/**
 * The CLI's own exit codes, apart from `submit --wait` and `logs --follow`, which exit with the
 * operation's. README's "Exit codes" table lists the same.
 */
import { ApiError } from './api-client.js';

export const EXIT = {
  ok: 0,
  /** Anything else: invalid settings, a server error. */
  failed: 1,
  /** A wrong command, option or argument. */
  usage: 2,
  /** No answer from the API (not running, wrong KUBE_WORKER_URL). */
  unreachable: 3,
  /** No such operation. */
  notFound: 4,
  /** No API token, or the API refused it. */
  unauthorized: 5,
  /** The API refused the operation: malformed, too large, a ticket conflict, or something this worker cannot run. */
  refused: 6,
  /** Ctrl-C while following an operation (128 + SIGINT, as shells report it). */
  interrupted: 130,
} as const;

/** A failure the CLI itself reports: one line, and the exit code it deserves. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage);

/** The exit code for what an API call answered. */
export function exitCodeOfApiError(error: ApiError): number {
  if (error.status === 0) return EXIT.unreachable;
  if (error.status === 401) return EXIT.unauthorized;
  if (error.status === 404) return EXIT.notFound;
  if ([400, 409, 413, 415, 422].includes(error.status)) return EXIT.refused;
  return EXIT.failed;
}
