/**
 * `kube-worker completion bash|zsh`: completion scripts made from the command table, so that they
 * offer exactly the commands and options the CLI parses.
 */
import type { OptionSpec } from './command.js';
import { COMMANDS, GLOBAL_OPTIONS } from './command-table.js';
import { EXIT, usageError } from './exit-codes.js';

const flags = (options: Record<string, OptionSpec>): string[] =>
  Object.entries({ ...options, ...GLOBAL_OPTIONS }).flatMap(([name, spec]) => [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])]);

/** Options whose values come from a fixed list, and those that take a file. */
const valueChoices = (): Array<[string, string]> => {
  const seen = new Map<string, string>();
  for (const command of COMMANDS) {
    for (const [name, spec] of Object.entries(command.options)) {
      if (spec.choices) seen.set(`--${name}`, spec.choices.join(' '));
      if (spec.choices && spec.short) seen.set(`-${spec.short}`, spec.choices.join(' '));
    }
  }
  return [...seen];
};

export function bashCompletion(): string {
  const cases = COMMANDS.map((c) => `    ${c.name}) opts="${flags(c.options).join(' ')}" ;;`).join('\n');
  const values = valueChoices()
    .map(([flag, choices]) => `    ${flag}) COMPREPLY=($(compgen -W "${choices}" -- "$cur")); return ;;`)
    .join('\n');
  return `# bash completion for kube-worker; load it with: source <(kube-worker completion bash)
_kube_worker() {
  local cur prev command opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  command="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${COMMANDS.map((c) => c.name).join(' ')} --help --version" -- "$cur"))
    return
  fi
  case "$prev" in
${values}
    --file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  case "$command" in
${cases}
    *) opts="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  case "$command" in
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    help) COMPREPLY=($(compgen -W "${COMMANDS.map((c) => c.name).join(' ')}" -- "$cur")) ;;
    submit) COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}
complete -F _kube_worker kube-worker
`;
}

const zshQuote = (text: string): string => text.replace(/'/g, `'\\''`).replace(/[[\]:]/g, '\\$&');

export function zshCompletion(): string {
  const commands = COMMANDS.map((c) => `    '${c.name}:${zshQuote(c.summary)}'`).join('\n');
  const cases = COMMANDS.map((c) => {
    const options = Object.entries({ ...c.options, ...GLOBAL_OPTIONS }).map(([name, spec]) => {
      const value =
        spec.type === 'boolean'
          ? ''
          : `:${(spec.value ?? 'value').toLowerCase()}:${spec.choices ? `(${spec.choices.join(' ')})` : name === 'file' ? '_files' : ''}`;
      const repeat = spec.multiple ? '*' : '';
      return `        '${repeat}--${name}[${zshQuote(spec.description)}]${value}'`;
    });
    const argument =
      c.name === 'completion'
        ? `        ':shell:(bash zsh)'`
        : c.name === 'submit'
          ? `        ':script or file:_files'`
          : c.name === 'help'
            ? `        ':command:(${COMMANDS.map((x) => x.name).join(' ')})'`
            : undefined;
    return `    ${c.name})\n      _arguments \\\n${[...options, ...(argument ? [argument] : [])].join(' \\\n')}\n      ;;`;
  }).join('\n');
  return `#compdef kube-worker
# zsh completion for kube-worker; load it with: source <(kube-worker completion zsh)
# or save it as _kube-worker in a directory of your $fpath.
_kube_worker() {
  local -a commands
  commands=(
${commands}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local command=$words[2]
  shift words
  (( CURRENT-- ))
  case $command in
${cases}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _kube_worker "$@"
else
  compdef _kube_worker kube-worker
fi
`;
}

export async function completion(shell: string): Promise<number> {
  if (shell === 'bash') process.stdout.write(bashCompletion());
  else if (shell === 'zsh') process.stdout.write(zshCompletion());
  else throw usageError(`completion is for bash or zsh, not "${shell}"`);
  return EXIT.ok;
}
