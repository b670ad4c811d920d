/**
 * The executor's one door to the Kubernetes API: every call goes through the rate limiter and is
 * counted by verb and status code; one made for an operation is a span of its trace. A request the
 * API server's flow control turned away (429) is sent again after the wait it asks for, as
 * client-go does: it was refused before it was done, so sending it again is safe. Errors keep the
 * API server's own message (its Status), and say whether they are worth retrying.
 */
import * as k8s from '@kubernetes/client-node';
import { delay } from '../../core/delay.js';
import type { Tracing } from '../../core/tracing.js';
import { RateLimiter, type Urgency } from './rate-limiter.js';

export type RequestCounter = (verb: string, code: number) => void;

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }

  /** Network trouble, throttling, conflicts and server errors pass; invalid or forbidden requests do not. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 409 || this.status === 429 || this.status >= 500;
  }
}

/** The API server's own message from a client-node error. */
export function toKubeApiError(error: unknown): KubeApiError {
  if (error instanceof KubeApiError) return error;
  if (error instanceof k8s.ApiException) {
    let body: { message?: string; reason?: string } = {};
    try {
      body = typeof error.body === 'string' ? (JSON.parse(error.body) as typeof body) : ((error.body as typeof body) ?? {});
    } catch {
      body = { message: String(error.body) };
    }
    return new KubeApiError(error.code, body.message ?? error.message, body.reason);
  }
  return new KubeApiError(0, (error as Error).message ?? String(error));
}

const statusOf = (error: unknown): number => toKubeApiError(error).status;

/** How often a request turned away with 429 is sent again (client-go's count). */
export const TOO_MANY_REQUESTS_RETRIES = 10;
/** The longest wait a Retry-After is followed for; without one, a second. */
const MAX_RETRY_AFTER_MS = 10_000;

/** The wait a 429 asks for before the request is sent again, or undefined for any other error. */
export function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof k8s.ApiException) || error.code !== 429) return undefined;
  // The client hands over fetch's headers, whose names are lowercase.
  const seconds = Number((error.headers as Record<string, string | undefined> | undefined)?.['retry-after'] ?? 1);
  return Math.min(MAX_RETRY_AFTER_MS, Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 1000);
}

export class KubeApi {
  readonly core: k8s.CoreV1Api;
  readonly batch: k8s.BatchV1Api;
  readonly authorization: k8s.AuthorizationV1Api;
  readonly count: RequestCounter;
  private readonly limiter: RateLimiter;
  private readonly tracing: Tracing | undefined;

  constructor(
    readonly kubeConfig: k8s.KubeConfig,
    readonly namespace: string,
    options: { qps: number; burst: number; count: RequestCounter; tracing?: Tracing },
  ) {
    this.core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
    this.authorization = kubeConfig.makeApiClient(k8s.AuthorizationV1Api);
    this.limiter = new RateLimiter(options.qps, options.burst);
    this.count = options.count;
    this.tracing = options.tracing;
  }

  /**
   * Runs one API call under the rate limit and counts it; throws KubeApiError. `urgency`: 'starts'
   * for the request that starts an operation, which waits behind those of operations under way.
   */
  async call<T>(verb: string, request: () => Promise<T>, urgency: Urgency = 'continues'): Promise<T> {
    if (!this.tracing) return this.callCounted(verb, request, urgency);
    const attributes = { 'kube_worker.kubernetes.verb': verb };
    return this.tracing.inChildSpan(`kubernetes ${verb}`, { kind: 'client', attributes }, async (span) => {
      try {
        const result = await this.callCounted(verb, request, urgency);
        span.setAttributes({ 'kube_worker.kubernetes.status_code': 200 });
        return result;
      } catch (error) {
        span.setAttributes({ 'kube_worker.kubernetes.status_code': (error as KubeApiError).status });
        throw error;
      }
    });
  }

  private async callCounted<T>(verb: string, request: () => Promise<T>, urgency: Urgency): Promise<T> {
    for (let retries = 0; ; retries += 1) {
      await this.limiter.take(urgency);
      try {
        const result = await request();
        this.count(verb, 200);
        return result;
      } catch (error) {
        this.count(verb, statusOf(error));
        const wait = retryAfterMs(error);
        if (wait === undefined || retries >= TOO_MANY_REQUESTS_RETRIES) throw toKubeApiError(error);
        await delay(wait);
      }
    }
  }
}
