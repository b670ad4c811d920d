import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeApi, KubeApiError, retryAfterMs, TOO_MANY_REQUESTS_RETRIES } from '../../executor/kubernetes/kube-api.js';

const refusal = (code: number, headers: Record<string, string> = {}): k8s.ApiException<string> =>
  new k8s.ApiException(code, 'refused', JSON.stringify({ message: `answered ${code}` }), headers);

function api(): { api: KubeApi; counted: string[] } {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromClusterAndUser({ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: false }, { name: 'u' });
  const counted: string[] = [];
  return { api: new KubeApi(kubeConfig, 'ns', { qps: 1000, burst: 1000, count: (verb, code) => void counted.push(`${verb} ${code}`) }), counted };
}

/** A request answered by `answers` in turn, then with success. */
function answering(answers: Error[]): { request: () => Promise<string>; sent: () => number } {
  let sent = 0;
  return {
    request: async () => {
      const answer = answers[sent++];
      if (answer) throw answer;
      return 'done';
    },
    sent: () => sent,
  };
}

describe('a request the API server turns away', () => {
  it("is sent again after the wait a 429's Retry-After asks for, and each answer is counted", async () => {
    const { api: kube, counted } = api();
    const { request, sent } = answering([refusal(429, { 'retry-after': '0' }), refusal(429, { 'retry-after': '0' })]);
    expect(await kube.call('create', request)).toBe('done');
    expect(sent()).toBe(3);
    expect(counted).toEqual(['create 429', 'create 429', 'create 200']);
  });

  it('gives up after client-go’s count of retries, with the API server’s own message', async () => {
    const { api: kube } = api();
    const { request, sent } = answering(Array.from({ length: TOO_MANY_REQUESTS_RETRIES + 1 }, () => refusal(429, { 'retry-after': '0' })));
    const error = await kube.call('create', request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ status: 429, message: 'answered 429', retryable: true });
    expect(sent()).toBe(TOO_MANY_REQUESTS_RETRIES + 1);
  });

  it('is not sent again for any other refusal: it may have been done, or will never be', async () => {
    for (const code of [500, 503, 409, 403, 404]) {
      const { api: kube } = api();
      const { request, sent } = answering([refusal(code, { 'retry-after': '0' })]);
      await expect(kube.call('delete', request)).rejects.toMatchObject({ status: code });
      expect(sent()).toBe(1);
    }
  });

  it.each([
    [{ 'retry-after': '3' }, 3000],
    [{}, 1000],
    [{ 'retry-after': 'soon' }, 1000],
    [{ 'retry-after': '3600' }, 10_000],
  ])('waits as Retry-After %j says, within bounds: %i ms', (headers, ms) => {
    expect(retryAfterMs(refusal(429, headers))).toBe(ms);
  });
});
