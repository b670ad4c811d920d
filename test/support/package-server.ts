/**
 * A package feed on 127.0.0.1 for package tests:
 * - `/files/<name>`: what the test put there;
 * - `/generated/<bytes>`: that many bytes made on the fly, never held (generatedSha256 gives their hash);
 * - `/slow/<bytes>`: the same, 64 KiB every 50 ms;
 * - `/paused/<bytes>`: the same at full speed, with a pause of PAUSE_MS halfway (a download that
 *   lasts longer than the tests' 1 s progress interval, however fast the machine);
 * - `/chunked/<bytes>`: the same without a Content-Length;
 * - `/truncated/<bytes>`: announces that many, sends half, and hangs up;
 * - `/stalled/<bytes>`: announces that many, sends half, and then nothing, the connection left open;
 * - `/loop`: a redirect to itself;
 * - `/redirect?to=<url>`: a 302 there;
 * - `/status/<code>`: that status.
 * It remembers the headers of each request. Run as a program (`tsx package-server.ts`) it serves in
 * a process of its own and prints its URL, so that a test can measure the executor's memory alone.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const CHUNK = 64 * 1024;
const PAUSE_MS = 1500;

/** Chunk k is 64 KiB of the byte k % 251. */
function* generated(bytes: number): Generator<Buffer> {
  for (let sent = 0, k = 0; sent < bytes; k += 1) {
    const size = Math.min(CHUNK, bytes - sent);
    sent += size;
    yield Buffer.alloc(size, k % 251);
  }
}

export function generatedSha256(bytes: number): string {
  const hash = createHash('sha256');
  for (const chunk of generated(bytes)) hash.update(chunk);
  return hash.digest('hex');
}

export interface PackageServer {
  /** http://127.0.0.1:<port> (for a server on every interface too). */
  url: string;
  port: number;
  files: Map<string, Buffer>;
  requests: Array<{ path: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

function stream(response: http.ServerResponse, bytes: number, delayMs: number, announce = true, pauseMs = 0): void {
  response.writeHead(200, { 'content-type': 'application/octet-stream', ...(announce ? { 'content-length': bytes } : {}) });
  const chunks = generated(bytes);
  let sent = 0;
  let paused = pauseMs === 0;
  const next = (): void => {
    for (;;) {
      const chunk = chunks.next();
      if (chunk.done) return void response.end();
      const more = response.write(chunk.value);
      sent += chunk.value.length;
      if (!paused && sent >= bytes / 2) {
        paused = true;
        return void setTimeout(next, pauseMs);
      }
      if (delayMs > 0) return void setTimeout(next, delayMs);
      if (!more) return void response.once('drain', next);
    }
  };
  response.on('close', () => chunks.return(undefined));
  next();
}

/** `host`: where it listens; 0.0.0.0 lets pods with a network of their own reach it at their node's address. */
export async function startPackageServer(host = '127.0.0.1'): Promise<PackageServer> {
  const files = new Map<string, Buffer>();
  const requests: PackageServer['requests'] = [];
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    requests.push({ path: url.pathname, headers: request.headers });
    const [, kind, arg] = url.pathname.split('/');
    if (kind === 'files' && files.has(decodeURIComponent(arg ?? ''))) {
      const body = files.get(decodeURIComponent(arg!))!;
      response.writeHead(200, { 'content-length': body.length });
      return void response.end(body);
    }
    if (kind === 'generated' || kind === 'slow' || kind === 'chunked' || kind === 'paused') {
      return stream(response, Number(arg), kind === 'slow' ? 50 : 0, kind !== 'chunked', kind === 'paused' ? PAUSE_MS : 0);
    }
    if (kind === 'truncated' || kind === 'stalled') {
      response.writeHead(200, { 'content-length': Number(arg) });
      return void response.write(Buffer.alloc(Number(arg) / 2), () => kind === 'truncated' && response.destroy());
    }
    if (kind === 'loop') {
      response.writeHead(302, { location: '/loop' });
      return void response.end();
    }
    if (kind === 'redirect') {
      response.writeHead(302, { location: url.searchParams.get('to') ?? '/' });
      return void response.end();
    }
    response.writeHead(kind === 'status' ? Number(arg) : 404);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    files,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const served = await startPackageServer();
  process.stdout.write(`${served.url}\n`);
}
