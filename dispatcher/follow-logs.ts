/**
 * Server-Sent Events for an operation's log: each line an event `log` with its sequence number as
 * id (so Last-Event-ID resumes), then one `end` event with the outcome. Following blocks on a
 * connection of its own, closed as soon as the client goes. The end comes as soon as the result is
 * recorded (its `finished` message wakes the follower); the record is also read again at least every
 * WAIT_MS, so a follow ends even when that message is missed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LogLine } from '../core/contract/status.js';
import { isTerminal } from '../core/contract/status.js';
import type { RedisClient } from '../core/redis.js';
import type { Follows } from './follows.js';
import { findOperation, type OperationsDependencies } from './operations.js';

const PAGE = 1000;
const WAIT_MS = 500;
const KEEP_ALIVE_MS = 15_000;

export interface FollowOptions {
  /** A connection of its own for each follower, which blocks on it. */
  connectFollower(): RedisClient;
  follows: Follows;
  /** A follow that has sent no line for this long ends (the client resumes with Last-Event-ID). */
  idleMs: number;
}

export async function followLogs(
  deps: OperationsDependencies,
  { connectFollower, follows, idleMs }: FollowOptions,
  request: FastifyRequest<{ Params: { ticket: string }; Querystring: { afterSequence: number; follow: boolean } }>,
  reply: FastifyReply,
): Promise<void> {
  const { ticket } = request.params;
  const { pool } = await findOperation(deps, ticket); // 404 before the stream starts
  const op = { ticket, pool };
  let stop = (): void => undefined;
  let leave = (): void => undefined;
  if (request.query.follow) {
    try {
      leave = follows.enter(() => stop());
    } catch (error) {
      reply.header('retry-after', '5');
      throw error;
    }
  }
  // A Last-Event-ID this stream cannot have sent is ignored, as the SSE spec lets a server do.
  const lastEventId = Number(request.headers['last-event-id']);
  let after = Number.isSafeInteger(lastEventId) && lastEventId > 0 ? lastEventId : request.query.afterSequence;

  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  out.flushHeaders(); // the client knows the stream is open before the first line
  let closed = false;
  const follower = request.query.follow ? connectFollower() : undefined;
  stop = () => {
    closed = true;
    follower?.disconnect();
  };
  out.on('close', stop);
  const send = (read: LogLine[]): void => {
    // A blocked read left behind when the end was heard may return lines already sent.
    const lines = read.filter((line) => line.seq > after);
    if (lines.length === 0) return;
    out.write(lines.map((line) => `id: ${line.seq}\nevent: log\ndata: ${JSON.stringify(line)}\n\n`).join(''));
    after = lines[lines.length - 1]!.seq;
  };

  const finished = follower ? deps.finished.wait(op) : undefined;
  let ended: Promise<'ended'> | undefined = finished?.ended.then(() => 'ended' as const);
  let waiting: Promise<LogLine[]> | undefined;
  try {
    let lastWrite = Date.now();
    let lastLine = lastWrite;
    while (!closed) {
      // The state is read before the lines (sent together, Redis runs them in order): once it is
      // terminal, every line is already stored.
      const [record, first] = await Promise.all([deps.store.get(op), deps.logs.read(op, after, PAGE)]);
      let page = first;
      send(page);
      while (page.length === PAGE && !closed) {
        page = await deps.logs.read(op, after, PAGE);
        send(page);
      }
      if (!record || isTerminal(record.state) || !follower) {
        const end = record
          ? { ticket, state: record.state, exitCode: record.exitCode, failure: record.failure, nextSequence: after }
          : { ticket, state: 'released', nextSequence: after };
        out.write(`event: end\ndata: ${JSON.stringify(end)}\n\n`);
        break;
      }
      waiting ??= deps.logs.waitFor(follower, op, after, PAGE, WAIT_MS).catch(() => [] as LogLine[]);
      const woke = await Promise.race(ended ? [waiting, ended] : [waiting]);
      if (woke === 'ended') {
        // Read the record again at once; the read still blocked is dropped with the connection.
        ended = undefined;
        continue;
      }
      waiting = undefined;
      send(woke);
      if (woke.length > 0 || page.length > 0) lastLine = lastWrite = Date.now();
      else if (Date.now() - lastLine > idleMs) {
        out.write(`: nothing new for ${Math.round(idleMs / 1000)}s; reconnect with Last-Event-ID to go on\n\n`);
        break;
      } else if (Date.now() - lastWrite > KEEP_ALIVE_MS) {
        out.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
    }
  } catch (error) {
    request.log.warn({ err: error, ticket }, 'log stream ended by an error');
    if (!closed) out.write(`event: error\ndata: ${JSON.stringify({ message: 'the log stream failed; reconnect with Last-Event-ID to resume' })}\n\n`);
  } finally {
    finished?.cancel();
    leave();
    follower?.disconnect();
    out.end();
  }
}
