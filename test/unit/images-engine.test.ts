/**
 * The Docker engine of the test images (test/images/engine.ts) where the machine falls short: a
 * registry that does not answer or answers with an error, and references it cannot take apart.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerEngine, parseRef, SetupError } from '../images/engine.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

/** A registry that answers every manifest request with `status`; its host:port. */
async function registryAnswering(status: number): Promise<string> {
  server = createServer((req, res) => {
    res.statusCode = req.url?.startsWith('/v2/kube-worker-test/') ? status : 400;
    res.end();
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('DockerEngine.inRegistry', () => {
  it('is true for a manifest the registry has and false for one it has not', async () => {
    expect(await new DockerEngine().inRegistry(`${await registryAnswering(200)}/kube-worker-test/redis:0123456789abcdef`)).toBe(true);
    server!.close();
    expect(await new DockerEngine().inRegistry(`${await registryAnswering(404)}/kube-worker-test/redis:0123456789abcdef`)).toBe(false);
  });

  it('names host-setup.sh when nothing listens at the registry address', async () => {
    const host = await registryAnswering(200);
    await new Promise<void>((done) => server!.close(() => done()));
    server = undefined;
    const refusal = new DockerEngine().inRegistry(`${host}/kube-worker-test/redis:0123456789abcdef`);
    await expect(refusal).rejects.toBeInstanceOf(SetupError);
    await expect(refusal).rejects.toThrow(/does not answer.*host-setup\.sh/);
  });

  it('fails, without building, when the registry answers with an error', async () => {
    await expect(new DockerEngine().inRegistry(`${await registryAnswering(500)}/kube-worker-test/redis:0123456789abcdef`)).rejects.toThrow(/answered 500/);
  });
});

describe('parseRef', () => {
  it('splits host, repository and tag', () => {
    expect(parseRef('127.0.0.1:16500/kube-worker-test/script-tools:0123456789abcdef')).toEqual({
      host: '127.0.0.1:16500',
      repository: 'kube-worker-test/script-tools',
      tag: '0123456789abcdef',
    });
  });

  it.each([['redis'], ['127.0.0.1:16500/redis'], ['127.0.0.1:16500/redis:'], ['127.0.0.1:16500/redis@sha256:00']])('refuses %s', (ref) => {
    expect(() => parseRef(ref)).toThrow(/not a registry image reference/);
  });
});
