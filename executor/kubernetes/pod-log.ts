/**
 * Following the script container's log through the API (`pods/log`, with timestamps). A pod log
 * line is "<RFC3339Nano> <text>"; a line the launcher marked came from stderr. Following resumes
 * from a cursor — the last timestamp taken and how many lines at it — so a dropped connection or an
 * executor restart repeats and loses no line.
 */
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { LineSplitter } from '../output/line-splitter.js';
import type { KubeApi } from './kube-api.js';
import { STDERR_MARK } from './launcher.js';
import { SCRIPT_CONTAINER } from './names.js';

export interface LogCursor {
  /** Timestamp of the last line taken, as the pod log gave it. */
  origin: string;
  /** Lines taken with exactly that timestamp. */
  count: number;
}

/**
 * Lines of the packages' init container are stored as system lines with this before their origin,
 * so that an executor adopting the run tells how far each container's log was stored.
 */
const FETCH_ORIGIN = 'fetch ';

export function fetchLineOrigin(origin: string): string {
  return FETCH_ORIGIN + origin;
}

/**
 * Where reading goes on from, given the last origin stored: the packages' log is read before the
 * script's, so a script line stored means every package line was.
 */
export function resumePoint(last: LogCursor | undefined): { fetch: LogCursor | undefined; fetchRead: boolean; script: LogCursor | undefined } {
  if (!last) return { fetch: undefined, fetchRead: false, script: undefined };
  if (last.origin.startsWith(FETCH_ORIGIN))
    return { fetch: { origin: last.origin.slice(FETCH_ORIGIN.length), count: last.count }, fetchRead: false, script: undefined };
  return { fetch: undefined, fetchRead: true, script: last };
}

export interface PodLogLine {
  stream: 'stdout' | 'stderr';
  text: string;
  at: number;
  origin: string;
}

/** Nanoseconds since the epoch of an RFC3339(Nano) timestamp; comparable whatever its precision. */
export function timestampNanos(timestamp: string): bigint {
  const match = /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(timestamp);
  if (!match) return -1n;
  const seconds = BigInt(Math.floor(Date.parse(`${match[1]}${match[3]}`) / 1000));
  return seconds * 1_000_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** Splits "<timestamp> <text>" and reads the stderr mark (pure). */
export function parsePodLogLine(line: string): PodLogLine | undefined {
  const space = line.indexOf(' ');
  const origin = space > 0 ? line.slice(0, space) : line;
  const nanos = timestampNanos(origin);
  if (nanos < 0n) return undefined;
  const raw = space > 0 ? line.slice(space + 1) : '';
  const stderr = raw.startsWith(STDERR_MARK);
  return { stream: stderr ? 'stderr' : 'stdout', text: stderr ? raw.slice(STDERR_MARK.length) : raw, at: Number(nanos / 1_000_000n), origin };
}

/** Drops the lines a cursor says were already taken; advances it over the rest (pure but stateful). */
export class CursorFilter {
  private cursorNanos: bigint;
  private seenAtCursor = 0;

  constructor(private cursor: LogCursor | undefined) {
    this.cursorNanos = cursor ? timestampNanos(cursor.origin) : -1n;
  }

  get position(): LogCursor | undefined {
    return this.cursor;
  }

  /** Where to ask the API to start: the cursor's second (sinceTime has one-second precision). */
  get sinceTime(): string | undefined {
    if (!this.cursor) return undefined;
    return new Date(Number(this.cursorNanos / 1_000_000_000n) * 1000).toISOString().replace('.000Z', 'Z');
  }

  /** Call before re-reading from `sinceTime`. */
  rewind(): void {
    this.seenAtCursor = 0;
  }

  take(line: PodLogLine): boolean {
    const nanos = timestampNanos(line.origin);
    if (nanos < this.cursorNanos) return false;
    if (nanos === this.cursorNanos && this.cursor) {
      this.seenAtCursor += 1;
      if (this.seenAtCursor <= this.cursor.count) return false;
      this.cursor = { origin: this.cursor.origin, count: this.cursor.count + 1 };
      this.seenAtCursor = this.cursor.count;
      return true;
    }
    this.cursor = { origin: line.origin, count: 1 };
    this.cursorNanos = nanos;
    this.seenAtCursor = 1;
    return true;
  }
}

/**
 * Reads the container's log once from the filter's position: following until the container ends
 * when `follow`, else what is there. Resolves when the stream ends; `stop()` ends it early.
 */
export function readPodLog(
  api: KubeApi,
  podName: string,
  filter: CursorFilter,
  follow: boolean,
  onLine: (line: PodLogLine) => void,
  container = SCRIPT_CONTAINER,
): { done: Promise<void>; stop(): void } {
  let controller: AbortController | undefined;
  let stopped = false;
  let finish = (): void => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    const splitter = new LineSplitter((raw) => {
      const line = parsePodLogLine(raw);
      if (line && filter.take(line)) onLine(line);
    });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        splitter.write(chunk);
        callback();
      },
      final(callback) {
        splitter.end();
        callback();
        resolve();
      },
    });
    sink.on('error', reject);
    filter.rewind();
    const sinceTime = filter.sinceTime;
    api
      .call('get', () =>
        new k8s.Log(api.kubeConfig).log(api.namespace, podName, container, sink, { follow, timestamps: true, ...(sinceTime ? { sinceTime } : {}) }),
      )
      .then((abort) => {
        controller = abort;
        if (stopped) abort.abort();
      }, reject);
  });
  return {
    done,
    stop() {
      stopped = true;
      controller?.abort();
      finish();
    },
  };
}

/** One read of a container's log, as readPodLog gives it. */
export interface LogRead {
  done: Promise<void>;
  stop(): void;
}

/** How long a finished container's log may take to end before it is read once more instead. */
export const LOG_DRAIN_MS = 10_000;
/** Reads of the end of a finished container's log, while they fail. */
const LAST_READS = 3;

const backoff = (attempt: number): number => Math.min(200 * 2 ** attempt, 5000);

/**
 * Follows one container's log until every line is in, then reports `onDone` once. It knows nothing
 * of the supervision: it is told that the container ended (`containerEnded`: read to the end), or
 * that the pod is gone (`cutShort`: stop now), and answers with `onDone`. A stream that drops is
 * followed again after a backoff; one that is still open LOG_DRAIN_MS after the container ended is
 * closed and the rest read once more, from the cursor, so no line is lost or repeated.
 */
export class LogFollower {
  /** 'stuck': it ended, but the stream stayed open past LOG_DRAIN_MS. */
  private container: 'running' | 'ended' | 'stuck' = 'running';
  private halted: 'no' | 'cut' | 'stopped' = 'no';
  private reading: LogRead | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private wake = (): void => undefined;

  constructor(
    private readonly options: {
      /** Reads the log once from the follower's cursor: following it, or only what is there. */
      read(follow: boolean): LogRead;
      onDone(): void;
      /** Says why a read failed: `last` when the end of the log could not be read. */
      onError(error: unknown, last: boolean): void;
    },
  ) {}

  start(): void {
    void this.follow().then(() => {
      clearTimeout(this.drainTimer);
      if (this.halted !== 'stopped') this.options.onDone();
    });
  }

  /** The container has ended: its log ends too, and once every line is in the follower reports. */
  containerEnded(): void {
    if (this.container !== 'running') return;
    this.container = 'ended';
    this.drainTimer = setTimeout(() => {
      this.container = 'stuck';
      this.reading?.stop();
    }, LOG_DRAIN_MS);
    this.wake();
  }

  /** The pod is gone: report with the lines read so far. */
  cutShort(): void {
    this.halt('cut');
  }

  /** The run is over: stop, and report nothing. */
  stop(): void {
    this.halt('stopped');
    clearTimeout(this.drainTimer);
  }

  private halt(how: 'cut' | 'stopped'): void {
    if (this.halted === 'no') this.halted = how;
    this.reading?.stop();
    this.wake();
  }

  private async follow(): Promise<void> {
    for (let attempt = 0; this.halted === 'no'; attempt += 1) {
      const whole = await this.readOnce();
      if (this.halted !== 'no') return;
      if (this.container !== 'running') {
        // The drain watchdog is for the follow only: the last read must not be cut.
        clearTimeout(this.drainTimer);
        return whole && this.container === 'ended' ? undefined : this.readLast();
      }
      await this.pause(backoff(attempt));
    }
  }

  /** The container ended and the stream did not say all: read what is there, a few times while it fails. */
  private async readLast(): Promise<void> {
    for (let attempt = 0; attempt < LAST_READS && this.halted === 'no'; attempt += 1) {
      if (attempt > 0) await this.pause(backoff(attempt));
      try {
        this.reading = this.options.read(false);
        return await this.reading.done;
      } catch (error) {
        if (attempt === LAST_READS - 1) this.options.onError(error, true);
      }
    }
  }

  /** Whether the stream ended by itself rather than with an error. */
  private async readOnce(): Promise<boolean> {
    try {
      this.reading = this.options.read(true);
      await this.reading.done;
      return true;
    } catch (error) {
      this.options.onError(error, false);
      return false;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
