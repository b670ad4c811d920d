/**
 * The executor's one door to the Kubernetes API: every call goes through the rate limiter and is
 * counted by verb and status code; one made for an operation is a span of its trace. Errors keep the API server's own message (its Status), and say
 * whether they are worth retrying.
 */
import * as k8s from '@kubernetes/client-node';
import type { Tracing } from '../../core/tracing.js';
import { RateLimiter } from './rate-limiter.js';

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

  /** Runs one API call under the rate limit and counts it; throws KubeApiError. */
  async call<T>(verb: string, request: () => Promise<T>): Promise<T> {
    if (!this.tracing) return this.callCounted(verb, request);
    const attributes = { 'kube_worker.kubernetes.verb': verb };
    return this.tracing.inChildSpan(`kubernetes ${verb}`, { kind: 'client', attributes }, async (span) => {
      try {
        const result = await this.callCounted(verb, request);
        span.setAttributes({ 'kube_worker.kubernetes.status_code': 200 });
        return result;
      } catch (error) {
        span.setAttributes({ 'kube_worker.kubernetes.status_code': (error as KubeApiError).status });
        throw error;
      }
    });
  }

  private async callCounted<T>(verb: string, request: () => Promise<T>): Promise<T> {
    await this.limiter.take();
    try {
      const result = await request();
      this.count(verb, 200);
      return result;
    } catch (error) {
      this.count(verb, statusOf(error));
      throw toKubeApiError(error);
    }
  }
}
