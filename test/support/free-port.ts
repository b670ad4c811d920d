/**
 * A loopback port nobody listens on right now, for a test's server. Drawn below the kernel's
 * ephemeral range (32768 and up): a port the kernel handed out and took back would be free for
 * any outgoing connection to take as its own a moment later, and a server started on it then
 * fails to bind — which, with the thousands of connections a fault test makes, happens. Below
 * 30000, too, so as to stay clear of the test cluster's NodePorts.
 */
import net from 'node:net';

const RANGE = { from: 20_000, to: 30_000 };

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(false) : reject(error)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = RANGE.from + Math.floor(Math.random() * (RANGE.to - RANGE.from));
    if (await isFree(port)) return port;
  }
  throw new Error(`no free loopback port between ${RANGE.from} and ${RANGE.to} in 100 tries`);
}
