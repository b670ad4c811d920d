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
  if (last.origin.startsWith(FETCH_ORIGIN)) return { fetch: { origin: last.origin.slice(FETCH_ORIGIN.length), count: last.count }, fetchRead: false, script: undefined };
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
      .call('get', () => new k8s.Log(api.kubeConfig).log(api.namespace, podName, container, sink, { follow, timestamps: true, ...(sinceTime ? { sinceTime } : {}) }))
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
