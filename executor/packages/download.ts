/**
 * One package download, streamed to a file: the bytes pass through a SHA-256 and a size meter on
 * their way to disk, with stream back-pressure, so memory stays flat whatever the size. Every hop
 * — the URL, each redirect, each address a name resolves to — is checked against the allowed
 * sources (core/package-sources.ts). Headers go to the package's own origin only.
 */
import { createHash } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { createWriteStream } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { addressProblem, checkPackageUrl, type PackageSource } from '../../core/package-sources.js';
import { PackageError, shownUrl } from './package-error.js';

const MAX_REDIRECTS = 5;
/** A connection that sends nothing for this long is given up. */
const IDLE_TIMEOUT_MS = 60_000;

export interface DownloadRequest {
  url: string;
  headers: Record<string, string>;
  sources: readonly PackageSource[];
  destination: string;
  /** Bytes this download may take at most. */
  maxBytes: number;
  signal: AbortSignal;
  /** Bytes received so far, updated as they arrive (for progress lines). */
  progress: { bytes: number; total?: number };
  /** How long a connection may send nothing before it is given up (IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
}

export interface Downloaded {
  bytes: number;
  sha256: string;
}

/** A lookup that refuses the addresses the source does not allow (a name may resolve anywhere). */
function guardedLookup(source: PackageSource): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, options, (error, address: string | LookupAddress[], family?: number) => {
      if (error) return callback(error, '', 0);
      const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
      const refused = addresses.find((a) => addressProblem(a, source) !== undefined);
      if (refused) return callback(new PackageError(`${hostname} resolves to ${refused}, ${addressProblem(refused, source)}`), '', 0);
      (callback as (error: null, address: string | LookupAddress[], family?: number) => void)(null, address, family);
    });
  };
}

function get(url: URL, headers: Record<string, string>, source: PackageSource, signal: AbortSignal, idleTimeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let response: IncomingMessage | undefined;
    const request = (url.protocol === 'https:' ? https : http).get(
      url,
      { headers: { 'user-agent': 'kube-worker', ...headers }, signal, lookup: guardedLookup(source), agent: false },
      (started) => {
        response = started;
        resolve(started);
      },
    );
    // Once the body flows, the error must reach whoever reads it; destroying only the request
    // would leave them a bare ECONNRESET.
    request.setTimeout(idleTimeoutMs, () => (response ?? request).destroy(new PackageError(`${shownUrl(url)} sent nothing for ${idleTimeoutMs / 1000}s`)));
    request.once('error', reject);
  });
}

/** Counts, hashes and limits the bytes that pass. */
function meter(request: DownloadRequest, hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      request.progress.bytes += chunk.length;
      if (request.progress.bytes > request.maxBytes)
        return done(new PackageError(`it is larger than the ${request.maxBytes} bytes the operation may still download (KUBE_WORKER_PACKAGE_MAX_BYTES)`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

function connectionProblem(error: unknown, url: URL): Error {
  if (error instanceof PackageError || (error as Error).name === 'AbortError') return error as Error;
  const code = (error as NodeJS.ErrnoException).code;
  return new PackageError(`${shownUrl(url)} could not be downloaded: ${code ?? (error as Error).message}`);
}

export async function download(request: DownloadRequest): Promise<Downloaded> {
  let url = new URL(request.url);
  let headers = request.headers;
  for (let hop = 0; ; hop += 1) {
    const checked = checkPackageUrl(url.href, request.sources);
    if ('problem' in checked) throw new PackageError(`${hop === 0 ? '' : 'it was redirected to '}${shownUrl(url)}, which ${checked.problem}`);
    let response: IncomingMessage;
    try {
      response = await get(url, headers, checked.source, request.signal, request.idleTimeoutMs ?? IDLE_TIMEOUT_MS);
    } catch (error) {
      throw connectionProblem(error, url);
    }
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location) {
      response.resume();
      if (hop >= MAX_REDIRECTS) throw new PackageError(`${shownUrl(request.url)} redirected more than ${MAX_REDIRECTS} times`);
      const next = new URL(location, url);
      // Credentials are for the package's own origin, like a browser's.
      if (next.origin !== url.origin) headers = {};
      url = next;
      continue;
    }
    if (status !== 200) {
      response.resume();
      throw new PackageError(`${shownUrl(url)} answered HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`);
    }
    const length = Number(response.headers['content-length']);
    if (Number.isFinite(length) && length >= 0) {
      request.progress.total = length;
      if (length > request.maxBytes) {
        response.destroy();
        throw new PackageError(`it is ${length} bytes, more than the ${request.maxBytes} the operation may still download (KUBE_WORKER_PACKAGE_MAX_BYTES)`);
      }
    }
    const hash = createHash('sha256');
    try {
      await pipeline(response, meter(request, hash), createWriteStream(request.destination, { mode: 0o600 }), { signal: request.signal });
    } catch (error) {
      throw connectionProblem(error, url);
    }
    return { bytes: request.progress.bytes, sha256: hash.digest('hex') };
  }
}
