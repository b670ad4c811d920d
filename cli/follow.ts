/**
 * Following an operation to its end, for `submit --wait` and `logs --follow`: its log as it comes,
 * a live status line on a terminal (plain `»` lines elsewhere), then the outcome. Ctrl-C detaches
 * and says how to follow or cancel the operation later; with cancelOnInterrupt it cancels the
 * operation and waits for its end instead (a second Ctrl-C detaches).
 */
import type { LogLine } from '../client/index.js';
import type { ApiClient, LogEnd } from './api-client.js';
import { processExitCode } from './commands/client.js';
import { EXIT } from './exit-codes.js';
import { formatElapsed, progressText, StatusLine } from './status-line.js';
import { forStream, showControls } from '../core/terminal-text.js';

/** A line of the log on stdout (the script's) or stderr (its stderr, and `»` system lines), its controls shown on a terminal. */
export function printLine(line: LogLine): void {
  const stream = line.stream === 'stdout' ? process.stdout : process.stderr;
  stream.write(`${line.stream === 'system' ? '» ' : ''}${forStream(stream, line.text)}\n`);
}

const outcome = (end: LogEnd): string =>
  `» ${end.ticket} ${end.state}${end.exitCode === undefined ? '' : ` (exit code ${end.exitCode})`}${end.failure ? `: ${forStream(process.stderr, end.failure.message)}` : ''}`;

export const detachedText = (ticket: string): string =>
  `» detached: ${ticket} goes on without this command\n` +
  `»   follow it:  kube-worker logs ${ticket} --follow\n` +
  `»   cancel it:  kube-worker cancel ${ticket}\n`;

interface Following {
  onLine(line: LogLine): void;
  /** Says something on stderr without breaking the status line. */
  say(text: string): void;
  done(end: LogEnd | undefined): void;
}

function plain(ticket: string, state: string): Following {
  process.stderr.write(`» ${ticket} ${state}\n`);
  return {
    onLine: printLine,
    say: (text) => process.stderr.write(text),
    done: (end) => end && process.stderr.write(`${outcome(end)}\n`),
  };
}

/** The state is polled once a second: the log stream carries lines, not states. The poll also ticks the clock. */
function live(client: ApiClient, ticket: string, initialState: string): Following {
  const since = Date.now();
  const status = new StatusLine(process.stderr);
  let state = initialState;
  let reason: string | undefined;
  let lastSequence = 0;
  let done = false;
  const redraw = (): void => {
    if (!done) status.show(progressText({ ticket, state, reason, elapsedMs: Date.now() - since }));
  };
  const poll = setInterval(() => {
    client.status(ticket, lastSequence, 1).then(
      (current) => {
        state = current.state;
        redraw();
      },
      redraw, // the log stream reports a lost server; the clock keeps ticking meanwhile
    );
  }, 1000);
  redraw();
  return {
    onLine: (line) => {
      lastSequence = line.seq;
      if (line.stream === 'system') reason = showControls(line.text);
      status.above(() => printLine(line));
    },
    say: (text) => status.above(() => process.stderr.write(text)),
    done: (end) => {
      done = true;
      clearInterval(poll);
      status.clear();
      if (end) process.stderr.write(`${outcome(end)} after ${formatElapsed(Date.now() - since)}\n`);
    },
  };
}

/** Follows `ticket` to its end; resolves to the exit code this command should exit with. */
export async function followToEnd(client: ApiClient, ticket: string, state: string, cancelOnInterrupt: boolean): Promise<number> {
  const following = process.stderr.isTTY ? live(client, ticket, state) : plain(ticket, state);
  const stop = new AbortController();
  let interrupts = 0;
  let detach: () => void = () => undefined;
  const detached = new Promise<'detached'>((resolve) => (detach = () => resolve('detached')));
  const onInterrupt = (): void => {
    interrupts += 1;
    if (!cancelOnInterrupt || interrupts > 1) {
      detach();
      return;
    }
    following.say(`» cancelling ${ticket} (Ctrl-C again to stop waiting)\n`);
    client.cancel(ticket).catch((error: unknown) => following.say(`» could not cancel ${ticket}: ${(error as Error).message}\n`));
  };
  process.on('SIGINT', onInterrupt);
  try {
    const end = await Promise.race([client.follow(ticket, following.onLine, stop.signal), detached]);
    if (end === 'detached') {
      following.done(undefined);
      process.stderr.write(detachedText(ticket));
      return EXIT.interrupted;
    }
    following.done(end);
    return processExitCode(end.exitCode ?? 1);
  } finally {
    process.off('SIGINT', onInterrupt);
    stop.abort();
    following.done(undefined);
  }
}
