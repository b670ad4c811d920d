/**
 * Sends a fuzz request as it is — header values and bodies fetch would refuse or repair — and
 * reads the answer under a deadline. An event stream counts as answered once its head arrives.
 */
import http from 'node:http';
import type { FuzzRequest } from './requests.js';

export type Sent =
  | { kind: 'answer'; status: number; contentType: string; body: string }
  | { kind: 'timeout' }
  /** Node itself refused to send it (e.g. an invalid header value); nothing reached the server. */
  | { kind: 'unsendable'; message: string }
  | { kind: 'connection'; message: string };

const KEPT_BODY = 2000;

export function send(baseUrl: string, request: FuzzRequest, timeoutMs: number): Promise<Sent> {
  return new Promise((resolve) => {
    const url = new URL(baseUrl);
    let settled = false;
    const settle = (sent: Sent): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(sent);
    };
    let outgoing: http.ClientRequest;
    try {
      outgoing = http.request(
        { host: url.hostname, port: url.port, method: request.method, path: request.path, headers: request.headers, agent: false },
        (response) => {
          const contentType = String(response.headers['content-type'] ?? '');
          if (contentType.startsWith('text/event-stream')) {
            settle({ kind: 'answer', status: response.statusCode ?? 0, contentType, body: '' });
            response.destroy();
            return;
          }
          let body = '';
          response.on('data', (chunk: Buffer) => {
            if (body.length < KEPT_BODY) body += chunk.toString();
          });
          response.on('end', () => settle({ kind: 'answer', status: response.statusCode ?? 0, contentType, body: body.slice(0, KEPT_BODY) }));
          response.on('error', (error) => settle({ kind: 'connection', message: error.message }));
        },
      );
    } catch (error) {
      return resolve({ kind: 'unsendable', message: (error as Error).message });
    }
    const timer = setTimeout(() => {
      settle({ kind: 'timeout' });
      outgoing.destroy();
    }, timeoutMs);
    outgoing.on('error', (error) => settle({ kind: 'connection', message: (error as NodeJS.ErrnoException).code ?? error.message }));
    outgoing.end(request.body);
  });
}
