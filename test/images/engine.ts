/**
 * The Docker side of the image cache: mmdebstrap and `docker import` for the Debian base, `docker
 * build` for the rest, with files fetched from the npm registry or built with Go first, `docker
 * push` to the local registry, and the registry's API to know what it holds. Build output goes to
 * ~/.cache/kube-worker/images/build.log.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { lowerGoLine, moduleZip, unpackModule } from '../support/go-module.js';
import { tryLock, unlock } from '../support/pid-lock.js';
import type { Engine } from './cache.js';
import { hostFileContent, repoRoot, type Fetch, type ImageRecipe } from './recipes.js';

export const cacheDir = process.env.KW_IMAGES_CACHE ?? join(homedir(), '.cache', 'kube-worker', 'images');
const logFile = join(cacheDir, 'build.log');

/** Debian's client matches Debian's daemon (a newer client on PATH may speak a newer API). */
export const dockerBin = process.env.DOCKER ?? (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');
// The classic builder: BuildKit would fetch the Dockerfile's `# syntax=` frontend from Docker Hub.
const dockerEnv = { ...process.env, DOCKER_BUILDKIT: '0' };

export class SetupError extends Error {
  constructor(what: string) {
    super(`${what}; test/images/host-setup.sh installs and starts what the test images need`);
    this.name = 'SetupError';
  }
}

function run(cmd: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: number } = {}): void {
  // Builds yield to whatever else runs on the machine.
  const full = existsSync('/usr/bin/nice') ? ['/usr/bin/nice', '-n', '10', ...cmd] : cmd;
  appendFileSync(logFile, `\n$ ${cmd.join(' ')}\n`);
  const fd = openSync(logFile, 'a');
  try {
    const r = spawnSync(full[0]!, full.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.stdin ?? 'ignore', fd, fd] });
    // 127: nice found no such command.
    if (r.status === 127 || (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new SetupError(`${cmd[0]} is missing`);
    if (r.status !== 0) {
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
      throw new Error(`image build step failed (${cmd.join(' ')}); see ${logFile}:\n${tail}`);
    }
  } finally {
    closeSync(fd);
  }
}

export function findGo(): string {
  for (const go of [process.env.GO, ...(process.env.PATH ?? '').split(':').map((d) => d && join(d, 'go')), '/usr/local/go/bin/go']) {
    if (go && existsSync(go)) return go;
  }
  throw new SetupError('Go is missing (the pause and coredns images are built with it)');
}

/** Splits host:port/repository:tag into the registry API's parts. */
export function parseRef(ref: string): { host: string; repository: string; tag: string } {
  const m = /^([^/]+)\/([a-z0-9]+(?:[._/-][a-z0-9]+)*):(\w[\w.-]{0,127})$/.exec(ref);
  if (!m) throw new Error(`not a registry image reference: ${ref}`);
  return { host: m[1]!, repository: m[2]!, tag: m[3]! };
}

export class DockerEngine implements Engine {
  private go?: string;
  private goVersionText?: string;

  async inRegistry(ref: string): Promise<boolean> {
    const { host, repository, tag } = parseRef(ref);
    let res: Response;
    try {
      res = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      throw new SetupError(`the image registry at http://${host} does not answer (${(err as Error).cause ?? (err as Error).message})`);
    }
    if (res.status === 404) return false;
    if (res.ok) return true;
    throw new Error(`the image registry answered ${res.status} for ${ref}`);
  }

  inDocker(ref: string): boolean {
    const r = spawnSync(dockerBin, ['image', 'inspect', '--format', '{{.Id}}', ref], { env: dockerEnv, encoding: 'utf8' });
    if (r.status === 0) return true;
    if (/no such image/i.test(r.stderr)) return false;
    throw new SetupError(`Docker does not answer (${dockerBin}: ${r.stderr.trim() || r.error?.message})`);
  }

  build(recipe: ImageRecipe, ref: string, baseRefs: Record<string, string>): void {
    mkdirSync(cacheDir, { recursive: true });
    const make = recipe.make;
    if (make.kind === 'mmdebstrap') {
      const tar = join(cacheDir, `rootfs-${process.pid}.tar`);
      try {
        run(['mmdebstrap', `--variant=${make.variant}`, make.suite, tar, make.mirror]);
        run([dockerBin, 'import', '--change', 'CMD ["bash"]', tar, ref], { env: dockerEnv });
      } finally {
        rmSync(tar, { force: true });
      }
      return;
    }
    const source = join(repoRoot, make.context);
    const context = make.fetch.length > 0 ? join(cacheDir, `context-${recipe.name}-${process.pid}`) : source;
    try {
      if (context !== source) {
        rmSync(context, { recursive: true, force: true });
        cpSync(source, context, { recursive: true });
        for (const f of make.fetch) this.fetchInto(f, source, context, parseRef(ref).tag);
      }
      const args = Object.entries(baseRefs).flatMap(([arg, base]) => ['--build-arg', `${arg}=${base}`]);
      // Host network: the build steps reach Debian's mirror and the npm registry as this machine does.
      run([dockerBin, 'build', '--network', 'host', '--pull=false', ...args, '-t', ref, context], { env: dockerEnv });
    } finally {
      if (context !== source) rmSync(context, { recursive: true, force: true });
    }
  }

  private fetchInto(f: Fetch, source: string, context: string, tag: string): void {
    if (f.kind === 'go-module') {
      for (const [name, bin] of Object.entries(this.goModuleBinaries(f, source, tag))) copyFileSync(bin, join(context, name));
      return;
    }
    const target = join(context, f.into);
    if (f.kind === 'host-file') {
      writeFileSync(target, hostFileContent(f.path));
      return;
    }
    if (f.kind === 'go') {
      const go = this.goBin();
      const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' };
      const flags = ['-trimpath', '-ldflags=-s -w'];
      if (f.pkg.includes('@')) {
        const bin = join(context, '.gobin');
        run([go, 'install', ...flags, f.pkg], { env: { ...env, GOBIN: bin } });
        const [built] = readdirSync(bin);
        renameSync(join(bin, built!), target);
        rmSync(bin, { recursive: true });
      } else {
        run([go, 'build', ...flags, '-o', target, f.pkg], { cwd: source, env });
      }
      return;
    }
    const dir = join(context, `.npm-${f.into}`);
    mkdirSync(dir);
    run(['npm', 'pack', '--silent', f.spec], { cwd: dir });
    const [tgz] = readdirSync(dir).filter((e) => e.endsWith('.tgz'));
    const integrity = `sha512-${createHash('sha512')
      .update(readFileSync(join(dir, tgz!)))
      .digest('base64')}`;
    if (integrity !== f.integrity) throw new Error(`${f.spec}: integrity ${integrity}, expected ${f.integrity} (test/images/versions.json)`);
    run(['tar', 'xzf', tgz!], { cwd: dir });
    renameSync(join(dir, 'package', f.path), target);
    rmSync(dir, { recursive: true });
  }

  /**
   * The binaries of a go-module fetch, built once per image hash into
   * ~/.cache/kube-worker/images/go-module/<tag>/ (a registry that lost the image rebuilds it from
   * there in seconds).
   */
  private goModuleBinaries(f: Extract<Fetch, { kind: 'go-module' }>, source: string, tag: string): Record<string, string> {
    const out = join(cacheDir, 'go-module', tag);
    const paths = Object.fromEntries(Object.keys(f.binaries).map((name) => [name, join(out, name)]));
    if (Object.values(paths).every((p) => existsSync(p))) return paths;
    const env = { ...process.env, GOTOOLCHAIN: f.toolchain, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly -buildvcs=false' };
    const go = this.goBin();
    const src = join(cacheDir, `go-module-src-${process.pid}`);
    const tmp = `${out}.tmp-${process.pid}`;
    rmSync(src, { recursive: true, force: true });
    try {
      const root = unpackModule(moduleZip(go, f.module, env), f.module, src);
      for (const [path, file] of Object.entries(f.overlay)) copyFileSync(join(source, file), join(root, path));
      for (const [dir, keep] of Object.entries(f.keep)) {
        for (const file of readdirSync(join(root, dir))) if (file.endsWith('.go') && !keep.includes(file)) rmSync(join(root, dir, file));
      }
      const goMod = join(root, 'go.mod');
      writeFileSync(goMod, lowerGoLine(readFileSync(goMod, 'utf8'), f.toolchain));
      mkdirSync(tmp, { recursive: true });
      for (const [name, pkg] of Object.entries(f.binaries)) {
        run([go, 'build', '-trimpath', `-ldflags=${f.ldflags}`, '-o', join(tmp, name), pkg], { cwd: root, env });
      }
      rmSync(out, { recursive: true, force: true });
      renameSync(tmp, out);
    } finally {
      rmSync(src, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
    }
    return paths;
  }

  push(ref: string): void {
    run([dockerBin, 'push', ref], { env: dockerEnv });
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const lock = join(cacheDir, 'build.lock');
    for (const started = Date.now(); ; await sleep(1000)) {
      const attempt = tryLock(lock);
      if (attempt.taken) break;
      if (Date.now() - started > 60 * 60_000) throw new Error(`image build lock ${lock} held by pid ${attempt.owner} for an hour`);
    }
    try {
      return await fn();
    } finally {
      unlock(lock);
    }
  }

  goVersion(): string {
    this.goVersionText ??= spawnSync(this.goBin(), ['env', 'GOVERSION'], { encoding: 'utf8' }).stdout.trim();
    return this.goVersionText;
  }

  private goBin(): string {
    this.go ??= findGo();
    return this.go;
  }

  log(message: string): void {
    process.stderr.write(`[images] ${message}\n`);
  }
}
