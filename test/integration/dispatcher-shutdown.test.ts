/**
 * A dispatcher told to stop behind a Service: for its shutdown delay it says it is not ready and
 * still answers, so that connections the Service sends it while its endpoints change are served;
 * then it stops listening and exits cleanly.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { healthy, spawnCli, waitUntilStarted } from '../support/cli-process.js';
import { freePort } from '../support/free-port.js';

const TOKEN = 'dispatcher-shutdown-token-0123456789';
/** Long beside the few milliseconds between the checks below, so that they fall inside it on any machine. */
const DELAY_SECONDS = 8;

describe('a dispatcher told to stop', () => {
  it('answers, not ready, for KUBE_WORKER_SHUTDOWN_DELAY_SECONDS, then stops listening and exits 0', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const dispatcher = spawnCli('dispatcher', {
      REDIS_URL: 'redis://127.0.0.1:6379',
      KUBE_WORKER_PREFIX: `t${randomBytes(5).toString('hex')}`,
      KUBE_WORKER_API_TOKEN: TOKEN,
      KUBE_WORKER_SHUTDOWN_DELAY_SECONDS: String(DELAY_SECONDS),
      HOST: '127.0.0.1',
      PORT: String(port),
    });
    await waitUntilStarted('dispatcher', dispatcher, () => healthy(url), 120_000);
    const status = (path: string): Promise<number> => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.status);
    expect([await status('/readyz'), await status('/api/v1/worker')]).toEqual([200, 200]);

    dispatcher.process.kill('SIGTERM');
    await expect.poll(() => status('/readyz'), { timeout: 5_000, interval: 20 }).toBe(503);
    // Not ready, and still serving the API: a request the Service sends here meanwhile is answered.
    expect(await status('/api/v1/worker')).toBe(200);
    expect(dispatcher.process.exitCode).toBeNull();

    expect(await dispatcher.exited).toBe(0);
    expect(dispatcher.output()).toContain(`not ready; still answering for ${DELAY_SECONDS}s`);
    await expect(fetch(`${url}/healthz`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  }, 180_000);
});
