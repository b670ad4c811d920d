/** `kube-worker status <ticket>...` (a table, or the API's status documents) and `kube-worker cancel <ticket>`. */
import type { OperationStatus } from '../../client/index.js';
import type { Config } from '../../core/config.js';
import { ApiError } from '../api-client.js';
import { EXIT, exitCodeOfApiError } from '../exit-codes.js';
import { printLine } from '../follow.js';
import { formatElapsed } from '../status-line.js';
import { timelineLines } from '../timeline-view.js';
import { forStream } from '../../core/terminal-text.js';
import { connectClient } from './client.js';

const NONE = '-';

const since = (from: string | undefined, to: string | undefined, now: number): string =>
  from === undefined ? NONE : formatElapsed((to === undefined ? now : Date.parse(to)) - Date.parse(from));

/** One row per operation, columns as wide as their widest cell, like `kubectl get`. */
export function statusTable(operations: readonly OperationStatus[], now = Date.now()): string {
  const rows = [
    ['TICKET', 'POOL', 'STATE', 'EXIT CODE', 'REASON', 'AGE', 'DURATION'],
    ...operations.map((o) => [
      o.ticket,
      o.pool,
      o.state,
      o.exitCode === undefined ? NONE : String(o.exitCode),
      o.failure?.reason ?? NONE,
      since(o.timings.queuedAt, undefined, now),
      since(o.timings.startedAt, o.timings.finishedAt, now),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** What the table leaves out of a single operation: its timeline, why it failed, its output variables, then its log. */
function printDetails(operation: OperationStatus): void {
  const shown = (text: string): string => forStream(process.stdout, text);
  process.stdout.write(
    `\nTimeline:\n${timelineLines(operation.timeline)
      .map((line) => `  ${line}\n`)
      .join('')}`,
  );
  if (operation.failure) process.stdout.write(`\nFailure: ${operation.failure.reason}: ${shown(operation.failure.message)}\n`);
  const variables = Object.entries(operation.outputVariables ?? {});
  if (variables.length > 0) {
    process.stdout.write('\nOutput variables:\n');
    for (const [name, { value, sensitive }] of variables) process.stdout.write(`  ${shown(name)}=${sensitive ? '********' : shown(value)}\n`);
  }
  if (operation.logs.length > 0) process.stdout.write('\n');
  for (const line of operation.logs) printLine(line);
}

export async function status(config: Config, tickets: string[], output = 'table'): Promise<number> {
  const client = await connectClient(config);
  const found: OperationStatus[] = [];
  let exitCode: number = EXIT.ok;
  for (const ticket of tickets) {
    try {
      found.push(await client.status(ticket, 0, 10_000));
    } catch (error) {
      // A missing ticket among several is reported and the others shown; anything else stops here.
      if (!(error instanceof ApiError) || error.status !== 404 || tickets.length === 1) throw error;
      process.stderr.write(`kube-worker: ${error.message}\n`);
      exitCode = exitCodeOfApiError(error);
    }
  }
  if (output === 'json') {
    for (const operation of found) process.stdout.write(`${JSON.stringify(operation, null, 2)}\n`);
  } else if (found.length > 0) {
    process.stdout.write(statusTable(found));
    if (found.length === 1) printDetails(found[0]!);
  }
  return exitCode;
}

export async function cancel(config: Config, ticket: string): Promise<number> {
  const client = await connectClient(config);
  const accepted = await client.cancel(ticket);
  const what =
    accepted.state === 'cancelled'
      ? 'cancelled'
      : accepted.state === 'succeeded' || accepted.state === 'failed'
        ? `already ${accepted.state}`
        : `cancelling (was ${accepted.state})`;
  process.stdout.write(`${accepted.ticket} ${what}\n`);
  return EXIT.ok;
}
