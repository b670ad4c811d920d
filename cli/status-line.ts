/**
 * The live status line `submit --wait` keeps on a terminal: one line on stderr, rewritten in place
 * as the operation moves on (queued → pending, with why → running → outcome) and cleared while a
 * log line prints above it, so the log reads as it would without it.
 */

/** Carriage return, then erase the whole line. */
const CLEAR = '\r\x1b[2K';

export interface Terminal {
  write(text: string): unknown;
  /** Width in characters; a longer line would wrap and could no longer be rewritten in place. */
  readonly columns?: number;
}

export function formatElapsed(ms: number): string {
  const total = Math.floor(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

export interface Progress {
  ticket: string;
  state: string;
  /** Why it is not running yet: the last system line while pending (a mutex wait, a pod event). */
  reason?: string;
  elapsedMs: number;
}

export function progressText({ ticket, state, reason, elapsedMs }: Progress): string {
  return `» ${ticket} ${state}${state === 'pending' && reason ? `: ${reason}` : ''} (${formatElapsed(elapsedMs)})`;
}

export class StatusLine {
  private shown = '';

  constructor(private readonly terminal: Terminal) {}

  show(text: string): void {
    const width = (this.terminal.columns || 80) - 1; // 0 when the terminal does not say
    this.shown = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    this.terminal.write(`${CLEAR}${this.shown}`);
  }

  /** Runs `print` (which writes whole lines) with the status line out of the way, then puts it back. */
  above(print: () => void): void {
    if (this.shown) this.terminal.write(CLEAR);
    print();
    if (this.shown) this.terminal.write(this.shown);
  }

  clear(): void {
    if (this.shown) this.terminal.write(CLEAR);
    this.shown = '';
  }
}
