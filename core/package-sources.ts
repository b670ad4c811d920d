/**
 * Where packages may come from (pure): the operator lists allowed URL prefixes
 * (KUBE_WORKER_PACKAGE_SOURCES) and nothing else is fetched — not at submit time, not after a
 * redirect. The same rules run in the dispatcher (a 422 before anything is queued) and in every
 * download (each redirect, each address a name resolves to).
 */
import { isIP } from 'node:net';

export interface PackageSource {
  /** As the operator wrote it, for messages. */
  text: string;
  origin: string;
  /** The path the URL's path must start with. */
  pathPrefix: string;
  /** A source on a loopback host lets downloads reach loopback addresses (a feed beside the worker). */
  loopback: boolean;
}

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.']);

/** The source a prefix allows, or why the text cannot be one. */
export function parseSource(text: string): PackageSource | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a URL`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `"${text}" must be an http or https URL`;
  if (url.username || url.password) return `"${text}" must not carry a user or password; give credentials as package headers`;
  if (url.search || url.hash) return `"${text}" must be a prefix without ? or #`;
  const host = bareHost(url.hostname);
  return { text, origin: url.origin, pathPrefix: url.pathname, loopback: LOOPBACK_NAMES.has(host) || addressKind(host) === 'loopback' };
}

/** The hostname without the brackets of an IPv6 literal. */
export const bareHost = (hostname: string): string => hostname.replace(/^\[|\]$/g, '');

/** Why a package URL cannot be fetched, or the source that allows it. */
export function checkPackageUrl(text: string, sources: readonly PackageSource[]): { source: PackageSource } | { problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: 'is not a URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { problem: 'must be an http or https URL' };
  if (url.username || url.password) return { problem: 'carries a user or password in the URL; send credentials as a sensitive header instead' };
  const kind = addressKind(bareHost(url.hostname));
  if (kind === 'link-local') return { problem: 'points at a link-local address (such as a cloud metadata service), never a package source' };
  const source = sources.find((s) => s.origin === url.origin && url.pathname.startsWith(s.pathPrefix));
  if (!source) return { problem: 'is not under any package source this worker allows' };
  if (kind === 'loopback' && !source.loopback) return { problem: 'points at a loopback address' };
  return { source };
}

export type AddressKind = 'link-local' | 'loopback' | 'other';

/** IPv4 of an IPv4-mapped IPv6 address (::ffff:a.b.c.d), else the address itself. */
function unmapped(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** What kind of address an IP literal is; 'other' for a name or a routable address. */
export function addressKind(host: string): AddressKind {
  const address = unmapped(host);
  const family = isIP(address);
  if (family === 4) {
    const [a, b] = address.split('.').map(Number) as [number, number];
    if (a === 169 && b === 254) return 'link-local';
    if (a === 127 || a === 0) return 'loopback';
    return 'other';
  }
  if (family === 6) {
    const lower = address.toLowerCase();
    if (lower === '::1' || lower === '::') return 'loopback';
    if (/^fe[89ab]/.test(lower)) return 'link-local';
  }
  return 'other';
}

/** Why a resolved address may not be connected to for this source, or undefined when it may. */
export function addressProblem(address: string, source: PackageSource): string | undefined {
  const kind = addressKind(address);
  if (kind === 'link-local') return 'a link-local address (such as a cloud metadata service), never a package source';
  if (kind === 'loopback' && !source.loopback) return `a loopback address, and the source ${source.text} is not on a loopback host`;
  return undefined;
}
