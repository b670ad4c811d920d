/**
 * A TCP proxy in front of a Redis that fails one command on purpose, at a step a test chooses
 * instead of one it waits for by luck. Requests are read command by command (RESP arrays of bulk
 * strings, as every client sends them), and the first one that matches is failed one of two ways:
 *
 * - `cutAfter`: forwarded, run by Redis, and then the client's connection is cut instead of the
 *   reply being passed on. That is what a restart or failover does to a command caught in flight:
 *   it ran, and its client never heard. ioredis then reconnects and sends it again.
 * - `refuse`: not run; answered with an error a Redis that cannot serve gives (by default LOADING,
 *   what a restarted Redis answers while it reads its data back). The rest goes on as it came.
 * - `stall`: held, with whatever its connection sends after it, for a while before it goes on: a
 *   Redis busy that long (a fork, a slow disk, a long script) answers late, in order.
 *
 * A matcher is also told the names of the commands its connection sent before it: ioredis opens
 * each connection with its own (CLIENT SETNAME, an INFO as its ready check), which a test may want
 * to leave be.
 */
import net from 'node:net';

export interface RedisFaultProxy {
  /** `redis://127.0.0.1:<port>`: give this to the clients whose commands may fail. */
  url: string;
  /**
   * Cuts after the reply to the first command (as sent, RESP text) that `matches`; resolves with
   * that command once the cut was made, and rejects when none matched within `timeoutMs`.
   */
  cutAfter(matches: Matcher, timeoutMs?: number): Promise<string>;
  /** Answers the first command that `matches` with `error` instead of running it; resolves with that command. */
  refuse(matches: Matcher, error?: string, timeoutMs?: number): Promise<string>;
  /** Holds the first command that `matches`, and its connection's later ones, for `ms`; resolves with it once passed on. */
  stall(matches: Matcher, ms: number, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

/** `before`: the names (upper case) of the commands the same connection sent before this one. */
export type Matcher = (command: string, before: readonly string[]) => boolean;

export const LOADING = 'LOADING Redis is loading the dataset in memory';

/** The end of the command that starts at `start`, or undefined while it has not all arrived. */
function commandEnd(buffer: Buffer, start: number): number | undefined {
  const line = (from: number): { text: string; next: number } | undefined => {
    const cr = buffer.indexOf('\r\n', from, 'latin1');
    return cr < 0 ? undefined : { text: buffer.toString('latin1', from, cr), next: cr + 2 };
  };
  const header = line(start);
  if (!header) return undefined;
  if (!header.text.startsWith('*')) throw new Error(`not a RESP array: ${JSON.stringify(header.text.slice(0, 40))}`);
  let at = header.next;
  for (let i = Number(header.text.slice(1)); i > 0; i -= 1) {
    const bulk = line(at);
    if (!bulk) return undefined;
    at = bulk.next + Number(bulk.text.slice(1)) + 2;
    if (at > buffer.length) return undefined;
  }
  return at;
}

/** The first word of a command (RESP text), upper case. */
export const commandName = (command: string): string => (command.split('\r\n')[2] ?? '').toUpperCase();

/** A command as RESP. */
const encode = (...args: string[]): Buffer => Buffer.from(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);

/** A command whose reply is `error`, and which does nothing else. */
const failing = (error: string): Buffer => encode('EVAL', 'return redis.error_reply(ARGV[1])', '0', error);

type Fault = { kind: 'cut' } | { kind: 'refuse'; error: string } | { kind: 'stall'; ms: number };

interface Armed {
  fault: Fault;
  matches: Matcher;
  done: (command: string) => void;
}

export async function startRedisFaultProxy(redisUrl: string): Promise<RedisFaultProxy> {
  const target = new URL(redisUrl);
  let armed: Armed | undefined;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    const before: string[] = [];
    // While a stall lasts: what the client sent since, passed on in order when it ends.
    let held: Buffer[] | undefined;
    const forward = (bytes: Buffer): void => {
      if (held) held.push(bytes);
      else upstream.write(bytes);
    };
    // Set once a command to cut went upstream: its reply (and anything after it) is dropped.
    let cutting: { command: string; done: (command: string) => void } | undefined;
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const out: Buffer[] = [];
      for (let length = commandEnd(pending, 0); length !== undefined; length = commandEnd(pending, 0)) {
        const bytes = pending.subarray(0, length);
        pending = pending.subarray(length);
        const command = bytes.toString('latin1');
        const fault = armed && cutting === undefined && armed.matches(command, before) ? armed : undefined;
        before.push(commandName(command));
        if (!fault) {
          out.push(bytes);
          continue;
        }
        armed = undefined;
        if (fault.fault.kind === 'cut') {
          cutting = { command, done: fault.done };
          out.push(bytes);
        } else if (fault.fault.kind === 'stall') {
          if (out.length > 0) forward(Buffer.concat(out.splice(0)));
          held = [bytes];
          setTimeout(() => {
            const later = Buffer.concat(held ?? []);
            held = undefined;
            if (!upstream.destroyed) upstream.write(later);
            fault.done(command);
          }, fault.fault.ms);
        } else {
          out.push(failing(fault.fault.error));
          // Answered once the error reply is on its way back (the reply to the command before it too).
          setImmediate(() => fault.done(command));
        }
      }
      if (out.length > 0) forward(Buffer.concat(out));
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutting === undefined) return void client.write(chunk);
      // Redis runs every command of a read before it writes a reply: the command has run.
      const { command, done } = cutting;
      end();
      done(command);
    });
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;

  const arm = (fault: Fault, matches: Matcher, timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        armed = undefined;
        reject(new Error(`no command matched within ${timeoutMs}ms: nothing was ${{ cut: 'cut', refuse: 'refused', stall: 'stalled' }[fault.kind]}`));
      }, timeoutMs);
      armed = {
        fault,
        matches,
        done: (command) => {
          clearTimeout(timer);
          resolve(command);
        },
      };
    });

  return {
    url: `redis://127.0.0.1:${port}`,
    cutAfter: (matches, timeoutMs = 20_000) => arm({ kind: 'cut' }, matches, timeoutMs),
    refuse: (matches, error = LOADING, timeoutMs = 20_000) => arm({ kind: 'refuse', error }, matches, timeoutMs),
    stall: (matches, ms, timeoutMs = 20_000) => arm({ kind: 'stall', ms }, matches, timeoutMs),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
