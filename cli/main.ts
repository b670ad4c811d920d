#!/usr/bin/env node
/**
 * The one command: kube-worker start | dispatcher | executor | submit | status | logs | cancel |
 * queues | completion | help. Parses the command line against cli/command-table.ts and loads only
 * the chosen command's code.
 */
import { parseArgs } from 'node:util';
import { VERSION } from '../core/version.js';
import { ApiError } from './api-client.js';
import type { Command, OptionSpec, OptionValues } from './command.js';
import { commandUsage, COMMANDS, findCommand, GLOBAL_OPTIONS, UnknownCommand, usage } from './command-table.js';
import { CliError, EXIT, exitCodeOfApiError, usageError } from './exit-codes.js';

type ParseArgsOptions = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

const parseOptions = (specs: Record<string, OptionSpec>): ParseArgsOptions =>
  Object.fromEntries(
    Object.entries(specs).map(([name, { type, short, multiple }]) => [name, { type, ...(short ? { short } : {}), ...(multiple ? { multiple } : {}) }]),
  );

const VERSION_OPTION: OptionSpec = { type: 'boolean', description: 'print the version' };

/** Node's own messages for a bad option are long; one short line says it. */
function parseError(error: Error & { code?: string }, command: Command | undefined): CliError {
  const where = command ? ` for ${command.name}` : '';
  const unknown = /^Unknown option '([^']+)'/.exec(error.message);
  if (unknown) return usageError(`unknown option ${unknown[1]}${where}`);
  const missing = /^Option '(-\S+)(?:, (--\S+))?[^']*' argument missing/.exec(error.message);
  if (missing) return usageError(`option ${missing[2] ?? missing[1]} needs a value`);
  return usageError(error.message.split('\n')[0]!);
}

function parse(argv: string[], command: Command | undefined): { args: string[]; options: OptionValues } {
  const specs: Record<string, OptionSpec> = { ...(command ? command.options : { version: VERSION_OPTION }), ...GLOBAL_OPTIONS };
  try {
    const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: parseOptions(specs) });
    for (const [name, value] of Object.entries(values)) {
      const choices = specs[name]?.choices;
      if (choices && typeof value === 'string' && !choices.includes(value)) throw usageError(`--${name} must be ${choices.join(' or ')}, not "${value}"`);
    }
    return { args: positionals, options: values as OptionValues };
  } catch (error) {
    throw error instanceof CliError ? error : parseError(error as Error, command);
  }
}

async function main(argv: string[]): Promise<number | 'serving'> {
  const first = argv.findIndex((arg) => !arg.startsWith('-'));
  // Before the command only --help and --version belong.
  const { options: leading } = parse(first < 0 ? argv : argv.slice(0, first), undefined);
  if (first < 0) {
    if (argv.length === 0) {
      process.stderr.write(usage());
      return EXIT.usage;
    }
    process.stdout.write(leading.version && !leading.help ? `kube-worker ${VERSION}\n` : usage());
    return EXIT.ok;
  }
  const command = findCommand(argv[first]!);
  const { args, options } = parse(argv.slice(first + 1), command);
  if (options.help || leading.help) {
    process.stdout.write(commandUsage(command));
    return EXIT.ok;
  }
  if (leading.version) throw usageError('--version takes no command');
  if (args.length < command.minArgs) throw usageError(`${command.name} needs ${command.args}`);
  if (args.length > command.maxArgs)
    throw usageError(`${command.name} takes ${command.args || 'no arguments'}, not "${args.slice(command.maxArgs).join(' ')}"`);
  const env = process.env;
  const config = async () => (await import('../core/config.js')).readConfig(env, command.configDefaults);
  return command.run({ config, args, options, env });
}

/** One line on stderr saying what went wrong, and the exit code for it. */
function failure(error: unknown): { message: string; code: number } {
  if (error instanceof UnknownCommand) {
    return { message: `${error.message}; the commands are ${COMMANDS.map((c) => c.name).join(', ')} (kube-worker --help)`, code: EXIT.usage };
  }
  if (error instanceof CliError && error.exitCode === EXIT.usage) {
    const command = COMMANDS.find((c) => process.argv.slice(2).find((arg) => !arg.startsWith('-')) === c.name);
    return { message: `${error.message} (see kube-worker ${command ? `${command.name} ` : ''}--help)`, code: EXIT.usage };
  }
  if (error instanceof CliError) return { message: error.message, code: error.exitCode };
  if (error instanceof ApiError && error.status === 401) {
    return {
      message: `${error.message}: the API refused the token; check KUBE_WORKER_API_TOKEN (or the one kube-worker start saved)`,
      code: EXIT.unauthorized,
    };
  }
  if (error instanceof ApiError) return { message: error.message, code: exitCodeOfApiError(error) };
  // Invalid settings (ConfigError) list each bad variable on a line of its own.
  return { message: (error as Error).message ?? String(error), code: EXIT.failed };
}

main(process.argv.slice(2)).then(
  (code) => {
    // Server commands keep running until a signal; the others exit with their status.
    if (code !== 'serving') process.exitCode = code;
  },
  (error: unknown) => {
    const { message, code } = failure(error);
    process.stderr.write(`kube-worker: ${message}\n`);
    process.exitCode = code;
  },
);
