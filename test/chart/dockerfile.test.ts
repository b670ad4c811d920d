/**
 * The Dockerfile, read without a Docker engine: a build stage that compiles, a runtime stage with
 * production dependencies only, a non-root user, tini for signals, and an entrypoint that is the
 * CLI — so that one image runs `dispatcher` and `executor`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliCommands, readmeDefault } from './support/product.js';
import { all, expandArgs, globalArgs, last, parseDockerfile, type Stage } from './support/dockerfile.js';

const source = readFileSync('Dockerfile', 'utf8');
const stages = parseDockerfile(source);
const args = globalArgs(source);
const build = stages[0]!;
const runtime = stages.at(-1)!;
const runs = (stage: Stage): string[] => all(stage, 'RUN').map((i) => i.text);
const packageJson = JSON.parse(readFileSync('package.json', 'utf8')) as { bin: Record<string, string>; dependencies: Record<string, string> };

/** The .dockerignore patterns as regular expressions on a path. */
const ignored = readFileSync('.dockerignore', 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
  .map((pattern) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the Dockerfile', () => {
  let commands: string[] = [];
  beforeAll(async () => {
    commands = await cliCommands();
  });

  it('builds in one stage and runs from another, both on Node 24 by default', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(expandArgs(stage.from, args)).toMatch(/^node:24[.-]/);
    expect(expandArgs(runtime.from, args)).toMatch(/slim/);
    expect(all(runtime, 'COPY').map((i) => i.text)).toContainEqual(expect.stringMatching(new RegExp(`^--from=${build.name} /app/dist `)));
  });

  it('takes its Node.js base image as the build argument NODE_IMAGE, one for both stages', () => {
    expect(Object.keys(args)).toEqual(['NODE_IMAGE']);
    for (const stage of stages) expect(stage.from).toBe('${NODE_IMAGE}');
  });

  it('compiles with npm ci and npm run build, from every source folder the build needs', () => {
    expect(runs(build)).toContainEqual(expect.stringMatching(/^npm ci\b/));
    expect(runs(build)).toContain('npm run build');
    const copied = all(build, 'COPY').flatMap((i) => i.text.split(' ').slice(0, -1));
    const { include } = JSON.parse(readFileSync('tsconfig.build.json', 'utf8')) as { include: string[] };
    expect(copied).toEqual(expect.arrayContaining([...include, 'tsconfig.build.json', 'tsconfig.json', 'package-lock.json']));
    for (const source of copied) {
      expect(existsSync(source), source).toBe(true);
      expect(
        ignored.filter((pattern) => pattern.test(source)),
        `${source} is in .dockerignore`,
      ).toEqual([]);
    }
  });

  it('installs production dependencies only, without running package scripts', () => {
    expect(runs(runtime)).toContainEqual(expect.stringMatching(/npm ci --omit=dev --ignore-scripts/));
  });

  it('has every package the product imports among the production dependencies', () => {
    const imported = new Set<string>();
    for (const file of ['core', 'dispatcher', 'executor', 'cli'].flatMap(sourceFiles)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^'.][^']*)'/g)) {
        const specifier = match[1]!;
        if (specifier.startsWith('node:')) continue;
        imported.add(
          specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/'),
        );
      }
    }
    expect([...imported].filter((name) => !(name in packageJson.dependencies))).toEqual([]);
  });

  it('runs as a non-root user, by number', () => {
    const user = last(runtime, 'USER')?.text ?? 'root';
    expect(user).toMatch(/^[1-9][0-9]*(:[0-9]+)?$/);
  });

  it('runs the CLI under tini, stops on SIGTERM, and runs dispatcher or executor as its command', () => {
    const entrypoint = last(runtime, 'ENTRYPOINT')?.exec;
    expect(entrypoint).toEqual(['/usr/bin/tini', '--', 'node', packageJson.bin['kube-worker']]);
    expect(packageJson.bin['kube-worker']).toBe('dist/cli/main.js');
    expect(runs(runtime)).toContainEqual(expect.stringMatching(/apt-get install .*\btini\b/));
    expect(last(runtime, 'STOPSIGNAL')?.text).toBe('SIGTERM');
    const command = last(runtime, 'CMD')?.exec ?? [];
    expect(commands).toContain(command[0]);
    expect(commands).toEqual(expect.arrayContaining(['dispatcher', 'executor']));
  });

  it('exposes the API and metrics ports README.md gives as defaults', () => {
    expect(last(runtime, 'EXPOSE')?.text.split(' ')).toEqual([readmeDefault('PORT'), readmeDefault('KUBE_WORKER_METRICS_PORT')]);
  });
});
