/**
 * A local script must not outlive its executor, and Node offers no way to have a child killed when
 * its parent dies (Linux's PR_SET_PDEATHSIG). So each script starts under /bin/sh, which leaves a
 * watchdog behind in the script's process group and then execs the interpreter in its own place —
 * same pid, exit status and signals as a script started directly. The watchdog reads a pipe that
 * the executor holds open and never writes to: when the executor dies, however it dies, the kernel
 * closes its end, the read ends, and the watchdog kills the whole group.
 *
 * When the script's user is the operation's own, the watchdog kills every process of that user
 * (`kill -KILL -1` from that user reaches exactly those), so detached ones die with the rest;
 * again while some were left, since a process may fork while the signal goes round.
 *
 * The watchdog uses shell builtins only, so the script's PATH cannot break it; it is no child of
 * the script (a `wait` in the script does not wait for it); and it lets go of the script's output
 * pipes, so that they close when the script ends. The script itself does not get the pipe.
 */

/** The file descriptor of the pipe in the started process. */
export const WATCHDOG_FD = 3;

const KILL_GROUP = 'kill -KILL 0';
const KILL_USER = 'for _ in 1 2 3 4 5 6 7 8 9 10; do kill -KILL -1 || break; done; kill -KILL 0';

const watchdog = (kill: string): string => `( ( while read -r _; do :; done; ${kill} ) <&${WATCHDOG_FD} >/dev/null 2>&1 & ); exec ${WATCHDOG_FD}<&-; exec "$@"`;

/**
 * The command that runs `program args…` with a watchdog; give it a pipe on WATCHDOG_FD.
 * `ownUser`: the script runs as a user no other process has, whose every process the watchdog may kill.
 */
export function underWatchdog(program: string, args: string[], ownUser: boolean): { command: string; args: string[] } {
  return { command: '/bin/sh', args: ['-c', watchdog(ownUser ? KILL_USER : KILL_GROUP), 'kube-worker-script', program, ...args] };
}
