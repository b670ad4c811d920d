/**
 * Fetching an operation's packages into `<workspace>/packages/<name>/` before its script starts:
 * each is downloaded (download.ts), its SHA-256 checked, and only then unpacked (unpack.ts) or
 * kept as the file it is. A line says when each download starts and ends, and every few seconds
 * how far a long one has got. The same code runs in the local runtime's executor and in the
 * Kubernetes init container (`kube-worker fetch`).
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { urlFileName, type PackageSpec } from '../../core/package-layout.js';
import type { PackageSource } from '../../core/package-sources.js';
import { download } from './download.js';
import { PackageError, shownUrl } from './package-error.js';
import { unpack } from './unpack.js';

export const PROGRESS_INTERVAL_MS = 5000;

export interface FetchRequest {
  /** `<workspace>/packages`; made here. */
  dir: string;
  packages: readonly PackageSpec[];
  sources: readonly PackageSource[];
  /** Bytes the operation may download, all packages together (and, separately, unpack). */
  maxBytes: number;
  signal: AbortSignal;
  /** A system line for the operation's log. */
  say(line: string): void;
  progressIntervalMs?: number;
}

const MiB = 1024 * 1024;
export const size = (bytes: number): string =>
  bytes >= 10 * MiB
    ? `${Math.round(bytes / MiB)} MiB`
    : bytes >= MiB
      ? `${(bytes / MiB).toFixed(1)} MiB`
      : bytes >= 1024
        ? `${Math.round(bytes / 1024)} KiB`
        : `${bytes} bytes`;
const rate = (bytes: number, ms: number): string => `${size(Math.round((bytes * 1000) / Math.max(ms, 1)))}/s`;

/** Throws a PackageError naming the package, or the signal's AbortError. */
export async function fetchPackages(request: FetchRequest): Promise<void> {
  if (request.packages.length === 0) return;
  await mkdir(request.dir, { recursive: true, mode: 0o755 });
  let downloaded = 0;
  const unpackBudget = { remaining: request.maxBytes };
  for (const pkg of request.packages) {
    try {
      downloaded += await fetchOne(pkg, request, request.maxBytes - downloaded, unpackBudget);
    } catch (error) {
      if (error instanceof PackageError) throw new PackageError(`Package ${pkg.name}: ${error.message}`);
      throw error;
    }
  }
}

async function fetchOne(pkg: PackageSpec, request: FetchRequest, maxBytes: number, unpackBudget: { remaining: number }): Promise<number> {
  const { say } = request;
  const temporary = path.join(request.dir, `.${pkg.name}.download`);
  const folder = path.join(request.dir, pkg.name);
  const progress: { bytes: number; total?: number } = { bytes: 0, ...(pkg.sizeBytes !== undefined ? { total: pkg.sizeBytes } : {}) };
  const started = Date.now();
  say(`Downloading package ${pkg.name} from ${shownUrl(pkg.url)}${pkg.sizeBytes !== undefined ? ` (${size(pkg.sizeBytes)})` : ''}`);
  const ticker = setInterval(() => {
    const of = progress.total ? ` of ${size(progress.total)} (${Math.floor((progress.bytes * 100) / progress.total)}%)` : '';
    say(`Downloading package ${pkg.name}: ${size(progress.bytes)}${of}, ${rate(progress.bytes, Date.now() - started)}`);
  }, request.progressIntervalMs ?? PROGRESS_INTERVAL_MS);
  try {
    const { bytes, sha256 } = await download({
      url: pkg.url,
      headers: pkg.headers,
      sources: request.sources,
      destination: temporary,
      maxBytes,
      signal: request.signal,
      progress,
    }).finally(() => clearInterval(ticker));
    const took = Date.now() - started;
    if (sha256 !== pkg.sha256) {
      throw new PackageError(`the SHA-256 of the ${size(bytes)} downloaded is ${sha256}, not ${pkg.sha256} as the operation says; nothing was unpacked`);
    }
    say(`Downloaded package ${pkg.name}: ${size(bytes)} in ${(took / 1000).toFixed(1)} s (${rate(bytes, took)}), SHA-256 verified`);
    await mkdir(folder, { recursive: true, mode: 0o755 });
    if (pkg.format === 'none') {
      await rename(temporary, path.join(folder, urlFileName(pkg.url)));
    } else {
      const unpacked = await unpack(temporary, folder, pkg.format, unpackBudget, request.signal);
      say(`Unpacked package ${pkg.name} (${pkg.format}): ${unpacked.files} ${unpacked.files === 1 ? 'file' : 'files'}, ${size(unpacked.bytes)}`);
    }
    return bytes;
  } finally {
    await rm(temporary, { force: true });
  }
}
