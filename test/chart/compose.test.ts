/**
 * docker-compose.yml, read as Compose reads it (YAML merge keys included): Redis as production runs
 * it, and a dispatcher and an executor whose commands, settings and ports are the product's own.
 * test/images/compose-up.test.ts brings it up for real.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cliCommands, readmeDefault, SETTING_NAMES } from './support/product.js';

const text = readFileSync('docker-compose.yml', 'utf8');
const compose = parse(text, { merge: true }) as {
  services: Record<
    string,
    {
      image?: string;
      build?: string;
      command: string[];
      environment?: Record<string, string>;
      ports?: string[];
      depends_on?: object;
      user?: string;
      cap_drop?: string[];
      cap_add?: string[];
      security_opt?: string[];
      healthcheck?: { test: string[] };
    }
  >;
};
const { redis, dispatcher, executor } = compose.services;

/** The file's own variable, which its header tells users to export: Redis's password. */
const REDIS_PASSWORD = 'REDIS_PASSWORD';

/** Host variables interpolated as `${NAME...}`. */
const interpolated = (value: string): string[] => [...value.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!);

describe('docker-compose.yml', () => {
  let commands: string[] = [];
  beforeAll(async () => {
    commands = await cliCommands();
  });

  it('has Redis, a dispatcher and an executor', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['dispatcher', 'executor', 'redis']);
  });

  it('keeps to what docker-compose 1.29 (Debian, Ubuntu) reads as well as the compose plugin: no top-level name', () => {
    expect(
      Object.keys(parse(text) as object)
        .filter((key) => !key.startsWith('x-'))
        .sort(),
    ).toEqual(['services', 'volumes']);
  });

  it('runs the official Redis image by default (REDIS_IMAGE names another) with AOF and noeviction', () => {
    expect(redis!.image).toMatch(/^\$\{REDIS_IMAGE:-(docker\.io\/library\/)?redis:[^}]+\}$/);
    expect(redis!.command.join(' ')).toContain('--appendonly yes');
    expect(redis!.command.join(' ')).toContain('--maxmemory-policy noeviction');
  });

  it('has Redis want a password from REDIS_PASSWORD, never on its command line, and gives it to the dispatcher and executor in REDIS_URL only', () => {
    expect(text).toMatch(/^#\s+export REDIS_PASSWORD=/m);
    expect(redis!.environment!.REDIS_PASSWORD).toMatch(/^\$\{REDIS_PASSWORD:\?/);
    // Written by the shell into a 0600 file (printf is a builtin: no process shows it), then read by the server.
    const script = redis!.command.at(-1)!;
    expect(redis!.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(script).toMatch(/^umask 077 && printf 'requirepass %s\\n' "\$\$REDIS_PASSWORD" > (\S+) && exec redis-server \1 /);
    expect(redis!.healthcheck!.test.join(' ')).toContain('REDISCLI_AUTH="$$REDIS_PASSWORD" redis-cli ping');
    expect(redis!.user).toBe('redis');
    for (const service of [dispatcher!, executor!]) {
      expect(service.environment!.REDIS_URL).toBe('redis://:${REDIS_PASSWORD}@redis:6379');
      expect(Object.entries(service.environment!).filter(([name, value]) => name !== 'REDIS_URL' && String(value).includes(REDIS_PASSWORD))).toEqual([]);
    }
  });

  it('runs real CLI commands from the image built here (or the one KUBE_WORKER_IMAGE names), once Redis is healthy', () => {
    expect(dispatcher!.command).toEqual(['dispatcher']);
    expect(executor!.command).toEqual(['executor']);
    for (const service of [dispatcher!, executor!]) {
      expect(commands).toContain(service.command[0]);
      expect(service.build).toBe('.');
      expect(service.image).toBe('${KUBE_WORKER_IMAGE:-kube-worker:dev}');
      expect(service.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    }
  });

  it('sets only real settings, and interpolates only real settings from the shell', () => {
    for (const service of [dispatcher!, executor!]) {
      for (const [name, value] of Object.entries(service.environment ?? {})) {
        expect(SETTING_NAMES.has(name), name).toBe(true);
        for (const variable of interpolated(String(value))) expect(SETTING_NAMES.has(variable) || variable === REDIS_PASSWORD, variable).toBe(true);
      }
    }
  });

  it('documents the kubernetes runtime with settings that exist', () => {
    // The commented-out environment lines, indented under their explanation.
    const commented = [...text.matchAll(/^\s*#\s{3}([A-Z][A-Z0-9_]+): /gm)].map((m) => m[1]!);
    expect(commented).toEqual(expect.arrayContaining(['KUBE_WORKER_RUNTIME', 'KUBECONFIG', 'KUBE_WORKER_NAMESPACE']));
    for (const name of commented) expect(SETTING_NAMES.has(name), name).toBe(true);
    expect(text).toMatch(/#\s+KUBE_WORKER_RUNTIME: kubernetes/);
    expect(executor!.environment!.KUBE_WORKER_RUNTIME).toBe('local');
  });

  it('serves the API on the port README.md gives, on loopback, and needs an API token', () => {
    const port = readmeDefault('PORT');
    expect(dispatcher!.environment!.PORT ?? port).toBe(port);
    expect(dispatcher!.ports).toEqual([`127.0.0.1:${port}:${port}`]);
    expect(dispatcher!.environment!.KUBE_WORKER_API_TOKEN).toMatch(/^\$\{KUBE_WORKER_API_TOKEN:\?/);
    const metrics = readmeDefault('KUBE_WORKER_METRICS_PORT');
    expect(executor!.ports).toEqual([`127.0.0.1:${metrics}:${metrics}`]);
  });

  it("runs the executor as root, so that each operation's script gets a user of its own, with only the capabilities that takes", () => {
    expect(executor!.environment!.KUBE_WORKER_RUNTIME).toBe('local');
    expect(executor!.environment!.KUBE_WORKER_LOCAL_USER).toBeUndefined();
    expect(executor!.user).toBe('0:0');
    expect(executor!.cap_drop).toEqual(['ALL']);
    expect([...executor!.cap_add!].sort()).toEqual(['CHOWN', 'DAC_OVERRIDE', 'KILL', 'SETGID', 'SETUID']);
    expect(executor!.security_opt).toContain('no-new-privileges:true');
    // The dispatcher runs no scripts: it keeps the image's own user.
    expect(dispatcher!.user).toBeUndefined();
  });
});
