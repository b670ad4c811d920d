/**
 * Every command, its arguments and options, and the help text made from them: the one table that
 * parsing, `--help` and shell completion read. It imports nothing heavy: each command's code is
 * loaded only when that command runs, so that `--help` and the client commands start as fast as Node.
 */
import type { Command, OptionSpec } from './command.js';

const OUTPUT: OptionSpec = {
  type: 'string',
  short: 'o',
  value: 'FORMAT',
  choices: ['table', 'json'],
  description: "table for people (default), json for scripts: the API's status document, one per line",
};
const FOLLOW_TEXT = 'on a terminal, a status line shows the state and the time since submission';

export const COMMANDS: readonly Command[] = [
  {
    name: 'start',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    options: {},
    summary: 'dispatcher and executor in one process (local runtime by default, a private Redis unless REDIS_URL is set)',
    run: async ({ config, env }) => (await (await import('./commands/serve.js')).start(await config(), env), 'serving'),
  },
  {
    name: 'dispatcher',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    options: {},
    summary: 'the HTTP API only',
    run: async ({ config }) => (await (await import('./commands/serve.js')).dispatcher(await config()), 'serving'),
  },
  {
    name: 'executor',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    options: {},
    summary: 'an executor only',
    run: async ({ config, env }) => (await (await import('./commands/serve.js')).executor(await config(), env), 'serving'),
  },
  {
    name: 'submit',
    args: '<script|file>',
    minArgs: 1,
    maxArgs: 1,
    summary: 'submit an operation and print its ticket, or with --wait follow it to its end',
    options: {
      syntax: {
        type: 'string',
        value: 'SYNTAX',
        choices: ['bash', 'sh', 'python', 'powershell'],
        description: "the script's language (default: from the file extension, else bash)",
      },
      pool: { type: 'string', value: 'NAME', description: 'worker pool (default: default)' },
      image: { type: 'string', value: 'REF', description: 'container image to run the script in (kubernetes runtime)' },
      timeout: { type: 'string', value: 'SECONDS', description: 'stop the script after this long' },
      ticket: { type: 'string', value: 'ID', description: "the operation's ticket (default: generated)" },
      var: { type: 'string', multiple: true, value: 'NAME=VALUE', description: 'an environment variable for the script (repeatable)' },
      secret: { type: 'string', multiple: true, value: 'NAME=VALUE', description: 'a sensitive variable: masked in the log (repeatable)' },
      file: { type: 'string', multiple: true, value: 'PATH', description: "a file put in the script's working directory (repeatable)" },
      wait: { type: 'boolean', description: `follow the log and exit with the operation's exit code; ${FOLLOW_TEXT}; Ctrl-C detaches` },
      'cancel-on-interrupt': { type: 'boolean', description: 'with --wait, Ctrl-C cancels the operation instead of detaching' },
    },
    run: async ({ config, args, options }) => (await import('./commands/submit.js')).submit(await config(), args[0]!, options),
  },
  {
    name: 'status',
    args: '<ticket>...',
    minArgs: 1,
    maxArgs: Infinity,
    summary: 'state, exit code and timings of operations, and the log of one',
    options: { output: OUTPUT },
    run: async ({ config, args, options }) => (await import('./commands/inspect.js')).status(await config(), args, options.output as string | undefined),
  },
  {
    name: 'logs',
    args: '<ticket>',
    minArgs: 1,
    maxArgs: 1,
    summary: "print an operation's log; with --follow, follow it to its end",
    options: {
      follow: { type: 'boolean', short: 'f', description: `keep printing until the operation ends, then exit with its exit code; ${FOLLOW_TEXT}` },
      'cancel-on-interrupt': { type: 'boolean', description: 'with --follow, Ctrl-C cancels the operation instead of detaching' },
    },
    run: async ({ config, args, options }) => (await import('./commands/logs.js')).logs(await config(), args[0]!, options),
  },
  {
    name: 'cancel',
    args: '<ticket>',
    minArgs: 1,
    maxArgs: 1,
    options: {},
    summary: 'cancel an operation',
    run: async ({ config, args }) => (await import('./commands/inspect.js')).cancel(await config(), args[0]!),
  },
  {
    name: 'queues',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    options: {},
    summary: "each pool's queue depth: waiting, active, completed, failed, delayed",
    run: async ({ config }) => (await import('./commands/queues.js')).queues(await config()),
  },
  {
    name: 'fetch',
    args: '<plan> <dir>',
    minArgs: 2,
    maxArgs: 2,
    options: {},
    summary: "download, verify and unpack the packages of a plan into <dir> (what a script pod's init container runs)",
    run: async ({ args }) => (await import('../executor/packages/fetch-command.js')).fetchCommand(args[0]!, args[1]!),
  },
  {
    name: 'completion',
    args: '<bash|zsh>',
    minArgs: 1,
    maxArgs: 1,
    options: {},
    summary: 'print a shell completion script: source <(kube-worker completion bash)',
    run: async ({ args }) => (await import('./completion.js')).completion(args[0]!),
  },
  {
    name: 'help',
    args: '[command]',
    minArgs: 0,
    maxArgs: 1,
    options: {},
    summary: "this help, or a command's",
    run: async ({ args }) => {
      process.stdout.write(args[0] ? commandUsage(findCommand(args[0])) : usage());
      return 0;
    },
  },
];

/** Options every command takes. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

export const findCommand = (name: string): Command => {
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UnknownCommand(name);
  return command;
};

export class UnknownCommand extends Error {
  constructor(readonly command: string) {
    super(`unknown command "${command}"`);
  }
}

const flag = (name: string, spec: OptionSpec): string =>
  `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ` ${spec.choices ? spec.choices.join('|') : spec.value}` : ''}`;

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => `${c.name} ${c.args}`.length));
  return [
    'Usage: kube-worker <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${`${c.name} ${c.args}`.padEnd(width)}  ${c.summary}`),
    '',
    'Options: -h, --help (also after a command), --version',
    'Settings come from the environment (KUBE_WORKER_URL, KUBE_WORKER_API_TOKEN, ...); see README.md.',
    "Run 'kube-worker <command> --help' for a command's options.",
    '',
  ].join('\n');
}

export function commandUsage(command: Command): string {
  const options = Object.entries({ ...command.options, ...GLOBAL_OPTIONS });
  const width = Math.max(...options.map(([name, spec]) => flag(name, spec).length));
  return [
    `Usage: kube-worker ${command.name}${command.args ? ` ${command.args}` : ''}${Object.keys(command.options).length > 0 ? ' [options]' : ''}`,
    '',
    command.summary,
    '',
    'Options:',
    ...options.map(([name, spec]) => `  ${flag(name, spec).padEnd(width)}  ${spec.description}`),
    '',
  ].join('\n');
}
