/**
 * `kube-worker submit <script|file> [options]`: sends an operation; with --wait follows its log live
 * and exits with its exit code. On a terminal a status line under the log says where the operation
 * is and for how long; elsewhere the output is plain lines that scripts can read.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { OperationRequest, ScriptSyntax } from '../../core/contract/operation.js';
import type { Accepted, LogLine } from '../../core/contract/status.js';
import type { Config } from '../../core/config.js';
import type { ApiClient, LogEnd } from '../api-client.js';
import { formatElapsed, progressText, StatusLine } from '../status-line.js';
import { connectClient, processExitCode } from './client.js';

export interface SubmitOptions {
  syntax?: string;
  pool?: string;
  image?: string;
  var: string[];
  secret: string[];
  file: string[];
  timeout?: string;
  ticket?: string;
  wait: boolean;
}

const SYNTAX_BY_EXTENSION: Record<string, ScriptSyntax> = { '.sh': 'bash', '.bash': 'bash', '.py': 'python', '.ps1': 'powershell' };
const SYNTAXES: readonly ScriptSyntax[] = ['bash', 'sh', 'python', 'powershell'];

function pairs(values: string[], flag: string, sensitive: boolean): Record<string, { value: string; sensitive: boolean }> {
  const result: Record<string, { value: string; sensitive: boolean }> = {};
  for (const pair of values) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`${flag} takes NAME=VALUE, not "${pair}"`);
    result[pair.slice(0, at)] = { value: pair.slice(at + 1), sensitive };
  }
  return result;
}

export function buildRequest(script: string, options: SubmitOptions): OperationRequest {
  const isFile = existsSync(script);
  const syntax = (options.syntax ?? (isFile ? SYNTAX_BY_EXTENSION[path.extname(script)] : undefined) ?? 'bash') as ScriptSyntax;
  if (!SYNTAXES.includes(syntax)) throw new Error(`--syntax must be one of ${SYNTAXES.join(', ')}, not "${syntax}"`);
  const timeout = options.timeout === undefined ? undefined : Number(options.timeout);
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1)) throw new Error(`--timeout takes whole seconds, not "${options.timeout}"`);
  const variables = { ...pairs(options.var, '--var', false), ...pairs(options.secret, '--secret', true) };
  return {
    pool: options.pool ?? 'default',
    ...(options.ticket ? { ticket: options.ticket } : {}),
    script: { syntax, body: isFile ? readFileSync(script, 'utf8') : script },
    ...(Object.keys(variables).length > 0 ? { variables } : {}),
    ...(options.file.length > 0
      ? { files: options.file.map((file) => ({ name: path.basename(file), content: readFileSync(file).toString('base64') })) }
      : {}),
    ...(options.image ? { container: { image: options.image } } : {}),
    ...(timeout ? { timeoutSeconds: timeout } : {}),
  };
}

function print(line: LogLine): void {
  if (line.stream === 'stdout') process.stdout.write(`${line.text}\n`);
  else if (line.stream === 'stderr') process.stderr.write(`${line.text}\n`);
  else process.stderr.write(`» ${line.text}\n`);
}

const outcome = (end: LogEnd): string =>
  `» ${end.ticket} ${end.state}${end.exitCode === undefined ? '' : ` (exit code ${end.exitCode})`}${end.failure ? `: ${end.failure.message}` : ''}`;

async function followPlain(client: ApiClient, accepted: Accepted): Promise<LogEnd> {
  process.stderr.write(`» ${accepted.ticket} ${accepted.state}\n`);
  const end = await client.follow(accepted.ticket, print);
  process.stderr.write(`${outcome(end)}\n`);
  return end;
}

/** The state is polled once a second: the log stream carries lines, not states. The poll also ticks the clock. */
async function followLive(client: ApiClient, accepted: Accepted): Promise<LogEnd> {
  const since = Date.now();
  const status = new StatusLine(process.stderr);
  let state: string = accepted.state;
  let reason: string | undefined;
  let lastSequence = 0;
  let done = false;
  const redraw = (): void => {
    if (!done) status.show(progressText({ ticket: accepted.ticket, state, reason, elapsedMs: Date.now() - since }));
  };
  const poll = setInterval(() => {
    client.status(accepted.ticket, lastSequence, 1).then(
      (current) => {
        state = current.state;
        redraw();
      },
      redraw, // the log stream reports a lost server; the clock keeps ticking meanwhile
    );
  }, 1000);
  redraw();
  try {
    const end = await client.follow(accepted.ticket, (line) => {
      lastSequence = line.seq;
      if (line.stream === 'system') reason = line.text;
      status.above(() => print(line));
    });
    done = true;
    status.clear();
    process.stderr.write(`${outcome(end)} after ${formatElapsed(Date.now() - since)}\n`);
    return end;
  } finally {
    done = true;
    clearInterval(poll);
    status.clear();
  }
}

export async function submit(config: Config, script: string, options: SubmitOptions): Promise<number> {
  const client = await connectClient(config);
  const accepted = await client.submit(buildRequest(script, options));
  if (!options.wait) {
    process.stdout.write(`${accepted.ticket}\n`);
    return 0;
  }
  const end = process.stderr.isTTY ? await followLive(client, accepted) : await followPlain(client, accepted);
  return processExitCode(end.exitCode ?? 1);
}
