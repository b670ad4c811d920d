/**
 * `kube-worker submit <script|file> [options]`: sends an operation; with --wait follows its log live
 * and exits with its exit code. On a terminal a status line under the log says where the operation
 * is and for how long; elsewhere the output is plain lines that scripts can read.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { OperationRequest } from '../../client/index.js';
import type { Config } from '../../core/config.js';
import type { OptionValues } from '../command.js';
import { usageError } from '../exit-codes.js';
import { followToEnd } from '../follow.js';
import { connectClient } from './client.js';

export interface SubmitOptions {
  syntax?: string;
  pool?: string;
  image?: string;
  var?: string[];
  secret?: string[];
  file?: string[];
  timeout?: string;
  ticket?: string;
  wait?: boolean;
  'cancel-on-interrupt'?: boolean;
}

type ScriptSyntax = OperationRequest['script']['syntax'];

const SYNTAX_BY_EXTENSION: Record<string, ScriptSyntax> = { '.sh': 'bash', '.bash': 'bash', '.py': 'python', '.ps1': 'powershell' };
const SYNTAXES: readonly ScriptSyntax[] = ['bash', 'sh', 'python', 'powershell'];

function pairs(values: string[] = [], flag: string, sensitive: boolean): Record<string, { value: string; sensitive: boolean }> {
  const result: Record<string, { value: string; sensitive: boolean }> = {};
  for (const pair of values) {
    const at = pair.indexOf('=');
    if (at <= 0) throw usageError(`${flag} takes NAME=VALUE, not "${pair}"`);
    result[pair.slice(0, at)] = { value: pair.slice(at + 1), sensitive };
  }
  return result;
}

export function buildRequest(script: string, options: SubmitOptions): OperationRequest {
  const isFile = existsSync(script);
  const syntax = (options.syntax ?? (isFile ? SYNTAX_BY_EXTENSION[path.extname(script)] : undefined) ?? 'bash') as ScriptSyntax;
  if (!SYNTAXES.includes(syntax)) throw usageError(`--syntax must be one of ${SYNTAXES.join(', ')}, not "${syntax}"`);
  const timeout = options.timeout === undefined ? undefined : Number(options.timeout);
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1)) throw usageError(`--timeout takes whole seconds, not "${options.timeout}"`);
  const variables = { ...pairs(options.var, '--var', false), ...pairs(options.secret, '--secret', true) };
  return {
    pool: options.pool ?? 'default',
    ...(options.ticket ? { ticket: options.ticket } : {}),
    script: { syntax, body: isFile ? readFileSync(script, 'utf8') : script },
    ...(Object.keys(variables).length > 0 ? { variables } : {}),
    ...(options.file && options.file.length > 0
      ? { files: options.file.map((file) => ({ name: path.basename(file), content: readFileSync(file).toString('base64') })) }
      : {}),
    ...(options.image ? { container: { image: options.image } } : {}),
    ...(timeout ? { timeoutSeconds: timeout } : {}),
  };
}

export async function submit(config: Config, script: string, values: OptionValues): Promise<number> {
  const options = values as SubmitOptions;
  if (options['cancel-on-interrupt'] && !options.wait) throw usageError('--cancel-on-interrupt goes with --wait');
  const request = buildRequest(script, options);
  const client = await connectClient(config);
  const accepted = await client.submit(request);
  if (!options.wait) {
    process.stdout.write(`${accepted.ticket}\n`);
    return 0;
  }
  return followToEnd(client, accepted.ticket, accepted.state, options['cancel-on-interrupt'] ?? false);
}
