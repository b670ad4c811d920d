/**
 * A fetch for the API client that sends each request with node:http. Node's own fetch loads its
 * WebAssembly HTTP parser and keeps a connection pool: tens of MB more, and up to a second before
 * the process can exit, which a command run from scripts pays every time. Only what the client
 * uses is supported: a buffered request body, and the response streamed.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

/** Statuses whose response has no body (a Response refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

export async function httpFetch(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  const headers: Record<string, string> = Object.fromEntries(request.headers);
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const outgoing = (url.protocol === 'https:' ? https : http).request(url, { method: request.method, headers, signal: request.signal }, (incoming) => {
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(incoming.headers)) {
        for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, one);
      }
      const status = incoming.statusCode ?? 0;
      const stream = NO_BODY.has(status) ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>);
      if (!stream) incoming.resume();
      resolve(new Response(stream, { status, statusText: incoming.statusMessage ?? '', headers: responseHeaders }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
