/**
 * The CLI's client of the API: the generated client (client/index.ts, published as
 * `kube-worker/client`), sending its requests with node:http (http-fetch.ts says why).
 */
import { KubeWorkerClient } from '../client/index.js';
import { httpFetch } from './http-fetch.js';

export { ApiError, type LogEnd } from '../client/index.js';
export type ApiClient = KubeWorkerClient;

export const apiClient = (baseUrl: string, token: string): ApiClient =>
  new KubeWorkerClient({ baseUrl, token, fetch: httpFetch, unreachableHint: 'is it running? Set KUBE_WORKER_URL to point elsewhere' });
