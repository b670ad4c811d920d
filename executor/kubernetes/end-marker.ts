/**
 * How a script pod says that its script ended, in its own output stream, well before its status
 * does (the kubelet notices an exited container on its next relist, up to a second later).
 *
 * The launcher — the pod's first process, which runs the script as its child — draws a random key
 * before the script starts and prints only the key's SHA-256 as the log's very first line (the
 * seal). Once the script has exited and its stderr is drained, it prints the end line: the exit
 * code, the container's OOM-kill count, and the key itself. The executor records the result from an
 * end line only when the key matches the seal it read first. So the key never leaves the launcher
 * until the end: it is in no pod spec, variable, file, Secret or API object, and the executor never
 * sends it anywhere; the script (a child started after the seal was printed) can learn it only by
 * reading its parent's memory. Output that merely contains an end line — the script's own, a
 * replay of another run's log — carries no key that matches this run's seal, and stays output.
 *
 * The end line is a hint the pod's status can still overrule: a container that saw an OOM kill (or
 * whose count cannot be read), and a pod being deleted, wait for the status as before.
 */
import { createHash } from 'node:crypto';

/** Starts every line the launcher itself prints to the log (a control character no script prints by accident). */
const MARK = '\u001fkube-worker';
const SEAL = `${MARK} seal `;
const END = `${MARK} end `;

/**
 * The launcher's first lines (POSIX sh): draw the key, print its seal. Without `od` or `sha256sum`
 * in the image there is no seal and no end line, and the status decides as before.
 */
export const SEAL_LINES = [
  'set -- $(od -An -N16 -tx4 /dev/urandom 2>/dev/null)',
  'kw_key=$1$2$3$4',
  'kw_seal=$(printf %s "$kw_key" | sha256sum 2>/dev/null)',
  'kw_seal=${kw_seal%% *}',
  `if [ \${#kw_key} -eq 32 ] && [ \${#kw_seal} -eq 64 ]; then printf '\\037kube-worker seal %s\\n' "$kw_seal"; else kw_key=; fi`,
  'set --',
];

/**
 * The launcher's last lines, once the script's exit code is in `$code` and its stderr drained: the
 * OOM kills of the container's memory cgroup (cgroup v2, then v1), and the end line.
 */
export const END_LINES = [
  'kw_oom=unknown',
  'for kw_file in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do',
  '  [ -r "$kw_file" ] || continue',
  '  while read -r kw_name kw_value; do [ "$kw_name" = oom_kill ] && kw_oom=$kw_value; done < "$kw_file"',
  '  break',
  'done',
  `[ -n "$kw_key" ] && printf '\\037kube-worker end %s %s %s\\n' "$code" "$kw_oom" "$kw_key"`,
];

/** What the end line says: the script's exit code, and the OOM kills its container saw (undefined: unknown). */
export interface ScriptExit {
  exitCode: number;
  oomKills: number | undefined;
}

export type MarkerRead =
  /** The script's output, as it is. */
  | { kind: 'line'; text: string }
  /** One of the launcher's own lines, or a line after the end: not output. */
  | { kind: 'skip' }
  /** The script ended; `before` is what it printed last without a newline, which the end line joined. */
  | { kind: 'end'; exit: ScriptExit; before: string };

const END_LINE = /^(\d{1,3}) (\d+|unknown) ([0-9a-f]{32})$/;
const SEAL_LINE = /^[0-9a-f]{64}$/;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Reads the script container's stdout lines in order (pure but stateful). `fromStart`: the reading
 * begins at the log's first line, where the seal is; a run adopted part-way has no seal to check
 * against, so it records nothing from an end line and only keeps the launcher's lines out of the output.
 */
export class EndMarkerReader {
  private seal: string | undefined;
  private first: boolean;
  private ended = false;

  constructor(private readonly fromStart: boolean) {
    this.first = fromStart;
  }

  read(text: string): MarkerRead {
    if (this.ended) return { kind: 'skip' };
    if (this.first) {
      this.first = false;
      if (text.startsWith(SEAL) && SEAL_LINE.test(text.slice(SEAL.length))) {
        this.seal = text.slice(SEAL.length);
        return { kind: 'skip' };
      }
    }
    const at = text.lastIndexOf(END);
    const end = at >= 0 ? END_LINE.exec(text.slice(at + END.length)) : null;
    if (!end) return { kind: 'line', text };
    // Unsealed from the start (no od or sha256sum in the image): the launcher prints no end line, so this one is output.
    if (this.seal === undefined && this.fromStart) return { kind: 'line', text };
    if (this.seal === undefined) return at === 0 ? { kind: 'skip' } : { kind: 'line', text: text.slice(0, at) };
    if (sha256(end[3]!) !== this.seal) return { kind: 'line', text };
    this.ended = true;
    return { kind: 'end', exit: { exitCode: Number(end[1]), oomKills: end[2] === 'unknown' ? undefined : Number(end[2]) }, before: text.slice(0, at) };
  }
}
