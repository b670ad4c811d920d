/**
 * A Go module as the Go module proxy serves it: `go mod download` puts its zip in the module cache,
 * and the files are unpacked from that zip. For a module whose go.mod asks for a newer Go than the
 * toolchain that downloads it: the go command then refuses to extract it, but still keeps the zip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The path of module@version's zip, downloaded (and checked against go.sum's database) by `go`. */
export function moduleZip(go: string, moduleAtVersion: string, env: NodeJS.ProcessEnv = process.env): string {
  const dl = spawnSync(go, ['mod', 'download', '-json', moduleAtVersion], { encoding: 'utf8', env: { ...env, GOFLAGS: '' } });
  let zip: string | undefined;
  try {
    zip = (JSON.parse(dl.stdout) as { Zip?: string }).Zip;
  } catch {
    /* no JSON: the error is on stderr */
  }
  if (!zip || !existsSync(zip)) throw new Error(`cannot download ${moduleAtVersion}: ${dl.stderr.trim() || dl.stdout.trim()}`);
  return zip;
}

/**
 * Unpacks the module's zip into `into` (only `paths` below the module's root when given) and
 * returns the module's root there.
 */
export function unpackModule(zip: string, moduleAtVersion: string, into: string, paths: string[] = []): string {
  mkdirSync(into, { recursive: true });
  const patterns = paths.map((p) => `${moduleAtVersion}/${p.replace(/\/$/, '')}/*`);
  const r = spawnSync('unzip', ['-q', '-o', zip, ...patterns, '-d', into], { encoding: 'utf8' });
  if (r.error) throw new Error(`unzip is needed to unpack ${moduleAtVersion} (test/images/host-setup.sh installs it): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`unzip ${zip} failed: ${r.stderr.trim()}`);
  return join(into, moduleAtVersion);
}

/**
 * go.mod with its go line lowered to the toolchain's release when it asks for a later patch
 * release of the same Go version (the language is the version's; a patch release changes none).
 * Anything else is left as it is, for the go command to refuse.
 */
export function lowerGoLine(goMod: string, toolchain: string): string {
  const release = /^go(\d+\.\d+)\.(\d+)$/.exec(toolchain);
  if (!release) throw new Error(`not a Go release: ${toolchain}`);
  return goMod.replace(/^go (\d+\.\d+)\.(\d+)$/m, (line, version: string, patch: string) =>
    version === release[1] && Number(patch) > Number(release[2]) ? `go ${release[1]}.${release[2]}` : line,
  );
}
