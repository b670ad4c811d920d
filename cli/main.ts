#!/usr/bin/env node
/** The one command: kube-worker start | dispatcher | executor | submit | status | cancel | queues. */
import { parseArgs } from 'node:util';
import { ConfigError, readConfig } from '../core/config.js';
import { ApiError } from './api-client.js';
import { cancel, status } from './commands/inspect.js';
import { queues } from './commands/queues.js';
import { dispatcher, executor, start } from './commands/serve.js';
import { submit } from './commands/submit.js';

const USAGE = `Usage: kube-worker <command> [options]

Commands:
  start                       dispatcher and executor in one process (local runtime by default)
  dispatcher                  the HTTP API only
  executor                    an executor only
  submit <script|file>        submit an operation; options:
      --syntax bash|sh|python|powershell   (default: from the file extension, else bash)
      --pool NAME  --image REF  --timeout SECONDS  --ticket ID
      --var NAME=VALUE  --secret NAME=VALUE  --file PATH   (repeatable)
      --wait                  follow the log and exit with the operation's exit code
                              (on a terminal, a status line shows the state and elapsed time)
  status <ticket>             state, result and log of an operation
  cancel <ticket>             cancel an operation
  queues                      each pool's queue depth: waiting, active, completed, failed, delayed

Settings come from the environment; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      syntax: { type: 'string' },
      pool: { type: 'string' },
      image: { type: 'string' },
      timeout: { type: 'string' },
      ticket: { type: 'string' },
      var: { type: 'string', multiple: true, default: [] },
      secret: { type: 'string', multiple: true, default: [] },
      file: { type: 'string', multiple: true, default: [] },
      wait: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, argument] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  const env = process.env;
  const needs = (what: string): string => {
    if (!argument) throw new UsageError(`${command} needs ${what}`);
    return argument;
  };
  switch (command) {
    case 'start':
      await start(readConfig(env), env);
      return -1;
    case 'dispatcher':
      await dispatcher(readConfig(env, { HOST: '0.0.0.0' }));
      return -1;
    case 'executor':
      await executor(readConfig(env, { HOST: '0.0.0.0' }), env);
      return -1;
    case 'submit':
      return submit(readConfig(env), needs('a script or a script file'), values);
    case 'status':
      return status(readConfig(env), needs('a ticket'));
    case 'cancel':
      return cancel(readConfig(env), needs('a ticket'));
    case 'queues':
      return queues(readConfig(env));
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => {
    // Server commands keep running until a signal; the others exit with their status.
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`kube-worker: ${(error as Error).message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else if (error instanceof ConfigError || error instanceof ApiError) {
      process.stderr.write(`kube-worker: ${error.message}\n`);
      process.exitCode = error instanceof ApiError && error.status === 404 ? 4 : 1;
    } else {
      process.stderr.write(`kube-worker: ${(error as Error).message ?? String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
