/**
 * Every test image, pulled from the local registry and run: the tools each one promises are there,
 * each runs as the user it should, and pause stops at once on SIGTERM and SIGINT.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseRef } from './engine.js';
import { imageNames } from './images.js';
import { versions } from './recipes.js';
import { describeImages, docker, dockerOk, image } from './support/docker.js';

const run = (ref: string, ...args: string[]): string => dockerOk('run', '--rm', ref, ...args);
const user = (ref: string): string => dockerOk('image', 'inspect', '--format', '{{.Config.User}}', ref);

describeImages('test images', () => {
  it.each(imageNames.map((n) => [n]))('%s: the local registry serves it', async (name) => {
    const { host, repository, tag } = parseRef(image(name));
    const res = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(res.status).toBe(200);
  });

  it('pause: a pull from the registry gives an image that runs', () => {
    const ref = image('pause');
    docker('image', 'rm', ref);
    expect(docker('image', 'inspect', ref).status).not.toBe(0);
    dockerOk('pull', ref);
    expect(user(ref)).toBe('65535:65535');
  });

  it.each([['TERM'], ['INT']])('pause: SIG%s ends it at once with exit code 0', (signal) => {
    const id = dockerOk('run', '-d', image('pause'));
    try {
      const t0 = Date.now();
      dockerOk('kill', '--signal', signal, id);
      expect(dockerOk('wait', id)).toBe('0');
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      docker('rm', '-f', id);
    }
  });

  it('debian: Debian bookworm', () => {
    expect(run(image('debian'), 'cat', '/etc/debian_version')).toMatch(/^12\./);
  });

  it('script-tools: bash, sh, python3, coreutils, curl, CA certificates and jq, as user 1000 with a home', () => {
    const out = run(
      image('script-tools'),
      'bash',
      '-c',
      'set -e; sh -c "echo sh"; python3 -c "print(6*7)"; echo \'{"a":[1,2]}\' | jq -c .a; curl --version | head -1; ' +
        'test -s /etc/ssl/certs/ca-certificates.crt && echo certs; sha256sum /dev/null | cut -c1-8; id -u; echo "$HOME"; test -w "$HOME" && echo home-writable',
    );
    expect(out.split('\n')).toEqual(['sh', '42', '[1,2]', expect.stringMatching(/^curl \d/), 'certs', 'e3b0c442', '1000', '/home/worker', 'home-writable']);
  });

  it('node: Node.js 24 and npm, user node 1000', () => {
    const [node, npm, id] = run(image('node'), 'sh', '-c', 'node --version; npm --version; id -u node').split('\n');
    expect(node).toBe(`v${versions.node.version}`);
    expect(node!.split('.')[0]).toBe('v24');
    expect(npm).toBe(versions.npm.version);
    expect(id).toBe('1000');
  });

  it('coredns: the pinned CoreDNS with the kubernetes plugin', () => {
    expect(run(image('coredns'), '-version')).toContain(`CoreDNS-${versions.coredns.version.slice(1)}`);
    expect(
      run(image('coredns'), '-plugins')
        .split('\n')
        .map((l) => l.trim()),
    ).toEqual(expect.arrayContaining(['kubernetes', 'forward']));
  });

  it("keda: the operator and the metrics server start, as KEDA's user 65532, on a read-only root filesystem", () => {
    const ref = image('keda');
    expect(user(ref)).toBe('65532:65532');
    // Both answer --help (on stderr) with their own flags: the operator its leader election, the metrics server its secure port.
    const operator = docker('run', '--rm', '--network', 'none', '--read-only', ref, '--help');
    expect([operator.status, operator.stderr]).toEqual([0, expect.stringContaining('--leader-elect')]);
    const metrics = docker('run', '--rm', '--network', 'none', '--read-only', '--entrypoint', '/keda-adapter', ref, '--help');
    expect([metrics.status, metrics.stderr]).toEqual([0, expect.stringContaining('--secure-port')]);
  });

  it('kube-worker: prints its version as a non-root user on a read-only root filesystem', () => {
    const ref = image('kube-worker');
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(dockerOk('run', '--rm', '--read-only', ref, '--version')).toBe(`kube-worker ${version}`);
    expect(user(ref)).toBe('1000:1000');
    expect(dockerOk('run', '--rm', '--read-only', '--entrypoint', 'id', ref, '-u')).toBe('1000');
  });

  describeImages('redis', () => {
    const network = `kw-images-${randomBytes(4).toString('hex')}`;
    let server = '';
    beforeAll(() => {
      dockerOk('network', 'create', network);
      server = dockerOk(
        'run',
        '-d',
        '--network',
        network,
        '--network-alias',
        'redis',
        '--read-only',
        '-v',
        '/data',
        image('redis'),
        'redis-server',
        '--appendonly',
        'yes',
      );
    });
    afterAll(() => {
      if (server) docker('rm', '-f', '-v', server);
      docker('network', 'rm', network);
    });

    it('redis: Debian redis-server, as user 999', () => {
      expect(run(image('redis'), 'redis-server', '--version')).toMatch(/^Redis server v=7\./);
      expect(user(image('redis'))).toBe('999:999');
    });

    it('redis: another container writes and reads, the AOF is on the data volume', async () => {
      const cli = (...args: string[]): string => dockerOk('run', '--rm', '--network', network, image('redis'), 'redis-cli', '-h', 'redis', ...args);
      for (let i = 0; i < 50 && docker('exec', server, 'redis-cli', 'ping').stdout.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));
      expect(cli('set', 'kw-images-test', 'ok')).toBe('OK');
      expect(cli('get', 'kw-images-test')).toBe('ok');
      expect(cli('config', 'get', 'appendonly')).toBe('appendonly\nyes');
      expect(dockerOk('exec', server, 'ls', '/data')).toContain('appendonlydir');
    });

    it('redis: protected mode is off, as in the official image, unless the command line turns it on', async () => {
      expect(dockerOk('exec', server, 'redis-cli', 'config', 'get', 'protected-mode')).toBe('protected-mode\nno');
      const strict = dockerOk('run', '-d', image('redis'), 'redis-server', '--protected-mode', 'yes');
      try {
        let answer = '';
        for (let i = 0; i < 50 && !answer.startsWith('protected-mode'); i++) {
          answer = docker('exec', strict, 'redis-cli', 'config', 'get', 'protected-mode').stdout.trim();
          if (!answer.startsWith('protected-mode')) await new Promise((r) => setTimeout(r, 100));
        }
        expect(answer).toBe('protected-mode\nyes');
      } finally {
        docker('rm', '-f', '-v', strict);
      }
    });
  });
});
