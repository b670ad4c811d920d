/**
 * A client of the kube-worker API for other programs, published as `kube-worker/client`; the CLI
 * uses it too. Its types are generated from the OpenAPI document (docs/openapi.json →
 * client/openapi.ts, by openapi-typescript) and its calls are made by openapi-fetch, so it cannot
 * drift from the API: a change to a route changes the document, the types, and what compiles here.
 *
 * Every failure is an ApiError: the API's answer (`status`, the problem document's `code` and
 * `detail`), or status 0 when the API could not be reached.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import createClient, { type Client } from 'openapi-fetch';
import { backoffMs } from '../core/delay.js';
import type { components, paths } from './openapi.js';

export type { components, operations, paths } from './openapi.js';

type Schemas = components['schemas'];
export type OperationRequest = Schemas['OperationRequest'];
export type OperationStatus = Schemas['OperationStatus'];
export type OperationState = OperationStatus['state'];
export type Accepted = Schemas['Accepted'];
export type LogLine = OperationStatus['logs'][number];
export type QueueDepths = Schemas['QueueDepths'];
export type WorkerHealth = Schemas['WorkerHealth'];
/** The error document (RFC 9457) of every failed call. */
export type Problem = Schemas['Problem'];

/** The `end` event of a log stream: how the operation ended; `released` when its ticket is gone. */
export interface LogEnd {
  ticket: string;
  state: OperationState | 'released';
  exitCode?: number;
  failure?: OperationStatus['failure'];
  nextSequence?: number;
}

/** `code` when the API could not be reached (status 0); every other code is the API's own. */
export const UNREACHABLE = 'KW_ERR_UNREACHABLE';

export class ApiError extends Error {
  constructor(
    /** The HTTP status; 0 when there was no answer. */
    readonly status: number,
    /** The problem's stable code (e.g. KW_ERR_NOT_FOUND), UNREACHABLE, or the status when the answer was no problem document. */
    readonly code: string,
    detail: string,
    /** The problem document the API answered with, if it was one. */
    readonly problem?: Problem,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export interface ClientOptions {
  /** Where the API is, e.g. http://127.0.0.1:8080 (the document's server is relative: the dispatcher's own address). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` with every call. */
  token: string;
  /**
   * What sends each request.
   * @defaultValue globalThis.fetch
   */
  fetch?: (request: Request) => Promise<Response>;
  /**
   * Each call but a log stream fails with an ApiError of status 0 when it has no answer in this long.
   * @defaultValue none: the dispatcher bounds its own waits (a Redis that does not answer is a 503)
   */
  timeoutMs?: number;
  /** Said after "cannot reach kube-worker at …" when the API cannot be reached, e.g. where the address comes from. */
  unreachableHint?: string;
}

/** How many times follow() reconnects after a dropped stream or a 5xx before it gives up. */
const FOLLOW_ATTEMPTS = 30;

const isProblem = (body: unknown): body is Problem => typeof body === 'object' && body !== null && 'code' in body && 'detail' in body;

export class KubeWorkerClient {
  /** The typed openapi-fetch client, for what the methods below do not cover: `client.api.GET('/api/v1/worker')`. */
  readonly api: Client<paths>;

  constructor(private readonly options: ClientOptions) {
    this.api = createClient<paths>({
      baseUrl: options.baseUrl,
      headers: { authorization: `Bearer ${options.token}` },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  private unreachable(error: Error): ApiError {
    const hint = this.options.unreachableHint ? `; ${this.options.unreachableHint}` : '';
    const why = error.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : String(error.cause ?? error.message);
    return new ApiError(0, UNREACHABLE, `cannot reach kube-worker at ${this.options.baseUrl} (${why})${hint}`);
  }

  /** The ApiError for an answer that is not a success; `body` as openapi-fetch read it (JSON, else text). */
  private refused(response: Response, body: unknown): ApiError {
    if (isProblem(body)) return new ApiError(response.status, body.code, body.detail, body);
    return new ApiError(response.status, String(response.status), typeof body === 'string' && body !== '' ? body : response.statusText);
  }

  private signal(): AbortSignal | undefined {
    return this.options.timeoutMs === undefined ? undefined : AbortSignal.timeout(this.options.timeoutMs);
  }

  /** One call: its data, or an ApiError. */
  private async call<T>(send: (signal: AbortSignal | undefined) => Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    let result: { data?: T; error?: unknown; response: Response };
    try {
      result = await send(this.signal());
    } catch (error) {
      throw this.unreachable(error as Error);
    }
    if (!result.response.ok) throw this.refused(result.response, result.error);
    return result.data as T;
  }

  /** Submits an operation: `queued` when new, its current state when the same body was sent before with the same ticket. */
  submit(request: OperationRequest): Promise<Accepted> {
    return this.call((signal) => this.api.POST('/api/v1/operations', { body: request, signal }));
  }

  /** The operation, with up to `limit` log lines after `afterSequence`. */
  status(ticket: string, afterSequence = 0, limit = 1000): Promise<OperationStatus> {
    return this.call((signal) => this.api.GET('/api/v1/operations/{ticket}', { params: { path: { ticket }, query: { afterSequence, limit } }, signal }));
  }

  cancel(ticket: string): Promise<Accepted> {
    return this.call((signal) => this.api.POST('/api/v1/operations/{ticket}/cancel', { params: { path: { ticket } }, signal }));
  }

  /** Releases the logs and result of a finished operation; its ticket is 404 from then on. */
  complete(ticket: string): Promise<void> {
    return this.call((signal) => this.api.DELETE('/api/v1/operations/{ticket}', { params: { path: { ticket } }, signal }));
  }

  queues(): Promise<QueueDepths> {
    return this.call((signal) => this.api.GET('/api/v1/queues', { signal }));
  }

  worker(): Promise<WorkerHealth> {
    return this.call((signal) => this.api.GET('/api/v1/worker', { signal }));
  }

  /**
   * Follows the log stream until the operation ends, reconnecting from the last line seen if the
   * connection drops or the API answers 5xx (with backoff), so no line is lost or repeated. A 4xx
   * ends it at once. Aborting `signal` stops following.
   */
  async follow(ticket: string, onLine: (line: LogLine) => void, signal?: AbortSignal): Promise<LogEnd> {
    let last = 0;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const end = await this.stream(ticket, last, signal, (line) => {
          if (line.seq > last) {
            last = line.seq;
            onLine(line);
          }
        });
        if (end) return end;
      } catch (error) {
        if (error instanceof ApiError && error.status >= 400 && error.status < 500) throw error;
        if (signal?.aborted) throw error;
        if (attempt >= FOLLOW_ATTEMPTS) throw error instanceof ApiError ? error : this.unreachable(error as Error);
      }
      await sleep(backoffMs(attempt, 250, 5000), undefined, { signal });
    }
  }

  /** One connection to the log stream: its `end`, or undefined when it closed before the end. */
  private async stream(ticket: string, afterSequence: number, signal: AbortSignal | undefined, onLine: (line: LogLine) => void): Promise<LogEnd | undefined> {
    const { data, error, response } = await this.api.GET('/api/v1/operations/{ticket}/logs', {
      params: { path: { ticket }, query: { follow: true, afterSequence } },
      headers: { accept: 'text/event-stream' },
      parseAs: 'stream',
      signal,
    });
    if (!response.ok || !data) throw this.refused(response, error);
    let buffer = '';
    for await (const chunk of data.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let boundary: number;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const payload = /^data: (.*)$/m.exec(block)?.[1];
        if (!payload) continue;
        if (event === 'log') onLine(JSON.parse(payload) as LogLine);
        else if (event === 'end') return JSON.parse(payload) as LogEnd;
      }
    }
    return undefined;
  }
}
