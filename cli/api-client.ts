/**
 * A small client of the HTTP API, for the CLI's submit, status, cancel and queues commands. It uses
 * node:http rather than fetch: fetch's WebAssembly HTTP parser costs tens of MB and holds the
 * process for a second or more at exit, which a command run from scripts pays every time.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs } from '../core/delay.js';
import type { OperationRequest } from '../core/contract/operation.js';
import type { QueueDepths } from '../core/contract/queues.js';
import type { Accepted, LogLine, OperationStatus } from '../core/contract/status.js';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, detail: string) {
    super(detail);
    this.name = 'ApiError';
  }
}

function parseJson(text: string): Record<string, unknown> {
  try {
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export interface LogEnd {
  ticket: string;
  state: string;
  exitCode?: number;
  failure?: { reason: string; message: string };
}

export class ApiClient {
  constructor(private readonly baseUrl: string, private readonly token: string) {}

  private unreachable(error: Error): ApiError {
    return new ApiError(0, 'KW_ERR_UNREACHABLE', `cannot reach kube-worker at ${this.baseUrl} (${String(error.cause ?? error.message)}); is it running? Set KUBE_WORKER_URL to point elsewhere`);
  }

  /** Sends one request; resolves with the response, whatever its status. */
  private send(method: string, path: string, options: { body?: unknown; accept?: string; signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    const url = new URL(`${this.baseUrl}${path}`);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...(options.accept ? { accept: options.accept } : {}) };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    return new Promise((resolve, reject) => {
      const request = (url.protocol === 'https:' ? https : http).request(url, { method, headers, signal: options.signal }, resolve);
      request.on('error', reject);
      request.end(body);
    });
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: IncomingMessage;
    let text = '';
    try {
      response = await this.send(method, path, { body });
      for await (const chunk of response) text += String(chunk);
    } catch (error) {
      throw this.unreachable(error as Error);
    }
    const json = parseJson(text);
    const status = response.statusCode ?? 0;
    if (status >= 400) throw new ApiError(status, String(json.code ?? status), String(json.detail ?? text));
    return json as T;
  }

  submit(request: OperationRequest): Promise<Accepted> {
    return this.call('POST', '/api/v1/operations', request);
  }

  status(ticket: string, afterSequence = 0, limit = 1000): Promise<OperationStatus> {
    return this.call('GET', `/api/v1/operations/${encodeURIComponent(ticket)}?afterSequence=${afterSequence}&limit=${limit}`);
  }

  cancel(ticket: string): Promise<Accepted> {
    return this.call('POST', `/api/v1/operations/${encodeURIComponent(ticket)}/cancel`);
  }

  complete(ticket: string): Promise<void> {
    return this.call('DELETE', `/api/v1/operations/${encodeURIComponent(ticket)}`);
  }

  queues(): Promise<QueueDepths> {
    return this.call('GET', '/api/v1/queues');
  }

  /**
   * Follows the log stream until the operation ends, reconnecting from the last line seen if the
   * connection drops, so no line is lost or repeated. Aborting `signal` stops following.
   */
  async follow(ticket: string, onLine: (line: LogLine) => void, signal?: AbortSignal): Promise<LogEnd> {
    let last = 0;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const response = await this.send('GET', `/api/v1/operations/${encodeURIComponent(ticket)}/logs?follow=true&afterSequence=${last}`, { accept: 'text/event-stream', signal });
        const status = response.statusCode ?? 0;
        if (status >= 400) {
          let text = '';
          for await (const chunk of response) text += String(chunk);
          const json = parseJson(text);
          throw new ApiError(status, String(json.code ?? status), String(json.detail ?? response.statusMessage));
        }
        response.setEncoding('utf8');
        let buffer = '';
        for await (const chunk of response as AsyncIterable<string>) {
          buffer += chunk;
          let boundary: number;
          while ((boundary = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, boundary);
            buffer = buffer.slice(boundary + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (!data) continue;
            if (event === 'log') {
              const line = JSON.parse(data) as LogLine;
              if (line.seq > last) {
                last = line.seq;
                onLine(line);
              }
            } else if (event === 'end') {
              return JSON.parse(data) as LogEnd;
            }
          }
        }
      } catch (error) {
        if (error instanceof ApiError && error.status >= 400 && error.status < 500) throw error;
        if (signal?.aborted) throw error;
        if (attempt >= 30) throw error instanceof ApiError ? error : this.unreachable(error as Error);
      }
      await sleep(backoffMs(attempt, 250, 5000), undefined, { signal });
    }
  }
}
