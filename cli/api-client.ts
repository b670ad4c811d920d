/** A small client of the HTTP API, for the CLI's submit, status, cancel and queues commands. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { OperationRequest } from '../core/contract/operation.js';
import type { QueueDepths } from '../core/contract/queues.js';
import type { Accepted, LogLine, OperationStatus } from '../core/contract/status.js';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, detail: string) {
    super(detail);
    this.name = 'ApiError';
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

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw this.unreachable(error as Error);
    }
    const text = await response.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!response.ok) throw new ApiError(response.status, String(json.code ?? response.status), String(json.detail ?? text));
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
        const response = await fetch(`${this.baseUrl}/api/v1/operations/${encodeURIComponent(ticket)}/logs?follow=true&afterSequence=${last}`, {
          headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
          signal,
        });
        if (!response.ok || !response.body) {
          const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
          throw new ApiError(response.status, String(json.code ?? response.status), String(json.detail ?? response.statusText));
        }
        let buffer = '';
        const decoder = new TextDecoder();
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
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
      await sleep(Math.min(250 * 2 ** attempt, 5000), undefined, { signal });
    }
  }
}
