/**
 * A loopback port nobody listens on right now, for a test's server. Drawn below the kernel's
 * ephemeral range (32768 and up): a port the kernel handed out and took back would be free for
 * any outgoing connection to take as its own a moment later, and a server started on it then
 * fails to bind — which, with the thousands of connections a fault test makes, happens. Below
 * 30000, too, so as to stay clear of the test cluster's NodePorts.
 *
 * "Free now" is not "free once the server binds": a port drawn twice before either server bound
 * it would start one of them and fail the other (a Redis Cluster draws twelve at once). So a port
 * is never handed out twice by one process, and each vitest worker draws from a slice of its own.
 */
import net from 'node:net';

const RANGE = { from: 20_000, to: 30_000 };
/** Slices of the range, one per vitest worker (VITEST_POOL_ID, from 1), wrapping past this many. */
const SLICES = 8;

const handedOut = new Set<number>();

function slice(): { from: number; to: number } {
  const worker = Number(process.env.VITEST_POOL_ID);
  if (!Number.isInteger(worker) || worker < 1) return RANGE;
  const size = Math.floor((RANGE.to - RANGE.from) / SLICES);
  const from = RANGE.from + ((worker - 1) % SLICES) * size;
  return { from, to: from + size };
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(false) : reject(error)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const { from, to } = slice();
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = from + Math.floor(Math.random() * (to - from));
    if (handedOut.has(port) || !(await isFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free loopback port between ${from} and ${to} in 100 tries`);
}
