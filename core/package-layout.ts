/**
 * What a package becomes in the script's workspace (pure, shared by the dispatcher's rules and
 * both runtimes): the folder `packages/<name>/`, the variable naming it, and whether it is unpacked.
 */
import type { Package, PackageFormat } from './contract/operation.js';

export const PACKAGES_DIR = 'packages';

/** `KUBE_WORKER_PACKAGE_<NAME>`: the name upper-cased, anything but letters and digits made _. */
export const packageVariable = (name: string): string => `KUBE_WORKER_PACKAGE_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

/** The last segment of the URL's path, decoded; what a package that is not unpacked is saved as. */
export function urlFileName(url: string): string {
  const segment = new URL(url).pathname.split('/').pop() ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    decoded = segment;
  }
  // Never a path, never a hidden or special name.
  const clean = decoded.replace(/[/\\\0]/g, '_').replace(/^\.+/, '');
  return clean === '' ? 'package' : clean.slice(0, 255);
}

/** How a package is unpacked: as asked, else by its URL's file name. */
export function packageFormat(pkg: Pick<Package, 'extract'> & { url: string }): PackageFormat {
  if (pkg.extract) return pkg.extract;
  const file = urlFileName(pkg.url).toLowerCase();
  if (file.endsWith('.tar.gz') || file.endsWith('.tgz')) return 'tar.gz';
  if (file.endsWith('.tar')) return 'tar';
  if (file.endsWith('.zip')) return 'zip';
  return 'none';
}

/** A file package as the runtimes fetch it: every field the rules require is there. */
export interface PackageSpec {
  name: string;
  url: string;
  sha256: string;
  format: PackageFormat;
  headers: Record<string, string>;
  sizeBytes?: number;
}

const isDocker = (pkg: Package): boolean => pkg.type?.toLowerCase() === 'docker';

/** The operation's file packages, as fetched; call only on an operation the rules accepted. */
export function packageSpecs(packages: readonly Package[] | undefined): PackageSpec[] {
  return (packages ?? [])
    .filter((pkg) => !isDocker(pkg))
    .map((pkg) => ({
      name: pkg.name!,
      url: pkg.url!,
      sha256: pkg.sha256!.toLowerCase(),
      format: packageFormat({ url: pkg.url!, extract: pkg.extract }),
      headers: Object.fromEntries(Object.entries(pkg.headers ?? {}).map(([name, header]) => [name, header.value])),
      ...(pkg.sizeBytes !== undefined ? { sizeBytes: pkg.sizeBytes } : {}),
    }));
}

/** Header values to mask: the sensitive ones. */
export const sensitiveHeaderValues = (packages: readonly Package[] | undefined): string[] =>
  (packages ?? []).flatMap((pkg) =>
    Object.values(pkg.headers ?? {})
      .filter((h) => h.sensitive)
      .map((h) => h.value),
  );
