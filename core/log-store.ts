/**
 * Log lines of an operation: one Redis Stream per ticket whose entry ids are "<seq>-0", so the
 * sequence number is the stream id itself — strictly increasing from 1, readable from any point with
 * XRANGE, and resumable after a restart by reading the last id.
 *
 * Entry fields: s = stream (o stdout, e stderr, y system), t = text, a = time (ms since epoch), and
 * k = where the line came from (a pod log's own timestamp), so that following can resume there.
 */
import type { LogLine, LogStream } from './contract/status.js';
import type { Keys, OperationRef } from './keys.js';
import { withLuaCommands } from './lua-commands.js';
import type { RedisClient } from './redis.js';

const STREAM_CODE: Record<LogStream, string> = { stdout: 'o', stderr: 'e', system: 'y' };
const CODE_STREAM: Record<string, LogStream> = { o: 'stdout', e: 'stderr', y: 'system' };

type StreamEntry = [id: string, fields: string[]];

/** Entries per append call. */
const APPEND_CHUNK = 1000;

const LUA = new URL('./lua/', import.meta.url);

/** The fields of one log entry (its id aside): the one place a line's encoding is decided. */
export function encodeLine(stream: LogStream, text: string, at: number, origin?: string): string[] {
  const fields = ['s', STREAM_CODE[stream], 't', text, 'a', String(at)];
  if (origin !== undefined) fields.push('k', origin);
  return fields;
}

type AppendingRedis = RedisClient & { kwAppendLog(key: string, ...entries: string[]): Promise<number> };

/** One field of an entry, by its name. */
function fieldOf([, fields]: StreamEntry, name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/**
 * Where a source's lines stored so far end: the origin of the last line that has one, and how many
 * stored lines share it, so that following that source again resumes without repeating a line.
 */
export interface LogOrigin {
  origin: string;
  count: number;
}

function toLine([id, fields]: StreamEntry): LogLine {
  const value: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) value[fields[i]!] = fields[i + 1]!;
  return {
    seq: Number.parseInt(id, 10),
    at: new Date(Number(value.a)).toISOString(),
    stream: CODE_STREAM[value.s ?? 'y'] ?? 'system',
    text: value.t ?? '',
  };
}

export class LogStore {
  private readonly redis: AppendingRedis;

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
  ) {
    this.redis = withLuaCommands<{ kwAppendLog: number }>(redis, LUA);
  }

  /** Lines with a sequence number above `afterSequence`, at most `limit` of them. */
  private key(op: OperationRef): string {
    return this.keys.pool(op.pool).log(op.ticket);
  }

  async read(op: OperationRef, afterSequence: number, limit: number): Promise<LogLine[]> {
    const entries = (await this.redis.xrange(this.key(op), `${afterSequence + 1}-0`, '+', 'COUNT', limit)) as StreamEntry[];
    return entries.map(toLine);
  }

  /**
   * Waits up to `blockMs` for lines after `afterSequence`. Blocks its connection: give it one of its
   * own (a follower's), never the shared command connection.
   */
  async waitFor(blocking: RedisClient, op: OperationRef, afterSequence: number, limit: number, blockMs: number): Promise<LogLine[]> {
    const reply = (await blocking.xread('COUNT', limit, 'BLOCK', blockMs, 'STREAMS', this.key(op), `${afterSequence}-0`)) as [string, StreamEntry[]][] | null;
    return reply?.[0]?.[1].map(toLine) ?? [];
  }

  /** The last sequence number written, 0 when there is none. */
  async lastSequence(op: OperationRef): Promise<number> {
    const last = (await this.redis.xrevrange(this.key(op), '+', '-', 'COUNT', 1)) as StreamEntry[];
    return last[0] ? Number.parseInt(last[0][0], 10) : 0;
  }

  /**
   * A writer that continues after the last line already stored (e.g. after a restart).
   * `onWritten` hears of each line it stores, for the log line metric.
   */
  async openWriter(op: OperationRef, limits: LogLimits, onWritten?: (stream: LogStream) => void): Promise<LogWriter> {
    const seq = await this.lastSequence(op);
    const stored = seq > 0 ? await this.storedSoFar(op) : { bytes: 0, lastOrigin: undefined };
    return new LogWriter(this.redis, this.key(op), seq, stored.bytes, stored.lastOrigin, limits, onWritten);
  }

  /**
   * What an operation adopted after a restart has stored already: the bytes of script output (not
   * the product's own lines), which count against its byte limit, and the last origin. Read in
   * pages; a log holds at most the limit.
   */
  private async storedSoFar(op: OperationRef, page = 1000): Promise<{ bytes: number; lastOrigin: LogOrigin | undefined }> {
    let bytes = 0;
    let lastOrigin: LogOrigin | undefined;
    for (let after = 0; ;) {
      const entries = (await this.redis.xrange(this.key(op), `${after + 1}-0`, '+', 'COUNT', page)) as StreamEntry[];
      for (const entry of entries) {
        const line = toLine(entry);
        if (line.stream !== 'system') bytes += Buffer.byteLength(line.text);
        after = line.seq;
        const origin = fieldOf(entry, 'k');
        // Lines without an origin (the product's own) stand between a source's lines without ending their run.
        if (origin !== undefined) lastOrigin = origin === lastOrigin?.origin ? { origin, count: lastOrigin.count + 1 } : { origin, count: 1 };
      }
      if (entries.length < page) return { bytes, lastOrigin };
    }
  }
}

/** What one operation may store of its script's output. */
export interface LogLimits {
  maxLines: number;
  /** Bytes of text (UTF-8). */
  maxBytes: number;
}

/**
 * Appends lines in order. Lines written in the same tick go out in one pipeline; `flush()` waits
 * until everything appended so far is stored. Past either limit, output lines are counted, not
 * stored, and one line says how many were dropped. The product's own lines (`note`), such as the
 * outcome, are always stored: a log must say how its operation ended however much the script printed.
 * A writer opened after a restart goes on from the lines and bytes already stored.
 */
export class LogWriter {
  private pending: string[][] = [];
  private flushing: Promise<void> = Promise.resolve();
  private scheduled = false;
  private dropped = 0;
  private droppedBy: string | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly redis: AppendingRedis,
    private readonly key: string,
    private seq: number,
    /** Bytes of output stored so far. */
    private bytes: number,
    /** Where the lines stored before this writer opened end (see LogOrigin); undefined when none has an origin. */
    readonly lastOrigin: LogOrigin | undefined,
    private readonly limits: LogLimits,
    private readonly onWritten?: (stream: LogStream) => void,
  ) {}

  get lastSequence(): number {
    return this.seq;
  }

  /** A line of output, stored while within the limits. `origin` marks where it came from (see LogOrigin). */
  append(stream: LogStream, text: string, at = Date.now(), origin?: string): void {
    const size = Buffer.byteLength(text);
    if (this.seq >= this.limits.maxLines) this.drop(`${this.limits.maxLines} lines`);
    else if (this.bytes + size > this.limits.maxBytes) this.drop(`${this.limits.maxBytes} bytes`);
    else {
      this.bytes += size;
      this.push(stream, text, at, origin);
    }
  }

  /** A system line of the product's own, always stored: after the line saying what was dropped before it. */
  note(text: string, origin?: string): void {
    this.reportDropped();
    this.push('system', text, Date.now(), origin);
  }

  private drop(limit: string): void {
    this.dropped += 1;
    this.droppedBy ??= limit;
  }

  private reportDropped(): void {
    if (this.dropped === 0) return;
    this.push('system', `${this.dropped} log lines dropped: the limit is ${this.droppedBy} per operation`, Date.now());
    this.dropped = 0;
  }

  private push(stream: LogStream, text: string, at: number, origin?: string): void {
    this.seq += 1;
    const fields = encodeLine(stream, text, at, origin);
    this.pending.push([String(this.seq), String(fields.length), ...fields]);
    this.onWritten?.(stream);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Resolves when every line appended so far is in Redis; rejects if a write failed. */
  flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      this.flushing = this.flushing.then(async () => {
        try {
          // Chunked: one script call carries a bounded number of arguments however much was printed in a tick.
          for (let i = 0; i < batch.length; i += APPEND_CHUNK) await this.redis.kwAppendLog(this.key, ...batch.slice(i, i + APPEND_CHUNK).flat());
        } catch (error) {
          this.failure ??= error as Error;
        }
      });
    }
    return this.flushing.then(() => {
      if (this.failure) throw this.failure;
    });
  }

  /** Writes the "dropped" line if any were, then flushes. */
  async close(): Promise<void> {
    this.reportDropped();
    await this.flush();
  }
}
