/**
 * A TCP proxy in front of a Redis that can lose one reply on purpose: armed with a predicate, it
 * forwards the first request that matches it, lets Redis execute it, and then cuts the client's
 * connection instead of passing the reply on. That is what a Redis restart or failover does to a
 * command caught in flight — it ran, and its client never heard — at a step a test chooses instead
 * of one it waits for by luck. ioredis then reconnects and sends the command again.
 */
import net from 'node:net';

export interface ReplyCutter {
  /** `redis://127.0.0.1:<port>`: give this to the clients whose reply may be lost. */
  url: string;
  /**
   * Cuts after the reply to the first request (as sent, RESP text) that `matches`; resolves with
   * that request once the cut was made, and rejects when none matched within `timeoutMs`.
   */
  cutAfter(matches: (request: string) => boolean, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startReplyCutter(redisUrl: string): Promise<ReplyCutter> {
  const target = new URL(redisUrl);
  let armed: { matches: (request: string) => boolean; cut: (request: string) => void } | undefined;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    // Set once a matching request went upstream: its reply (and anything after it) is dropped.
    let cutting: string | undefined;
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      const request = chunk.toString('latin1');
      if (armed && cutting === undefined && armed.matches(request)) cutting = request;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutting === undefined) return void client.write(chunk);
      // Redis executes every command of a read before it writes a reply: the request has run.
      const request = cutting;
      const cut = armed?.cut;
      armed = undefined;
      end();
      cut?.(request);
    });
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;

  return {
    url: `redis://127.0.0.1:${port}`,
    cutAfter: (matches, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          armed = undefined;
          reject(new Error(`no request matched within ${timeoutMs}ms: nothing was cut`));
        }, timeoutMs);
        armed = {
          matches,
          cut: (request) => {
            clearTimeout(timer);
            resolve(request);
          },
        };
      }),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
