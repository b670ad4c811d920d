/**
 * What the packages' init container is given (the Secret's `packages.json`, mounted in it alone):
 * the packages, headers included, and the limits the executor was started with, so that
 * `kube-worker fetch` needs no settings of its own.
 */
import type { PackageSpec } from '../../core/package-layout.js';

export interface FetchPlan {
  /** KUBE_WORKER_PACKAGE_SOURCES as the operator wrote it. */
  sources: string[];
  maxBytes: number;
  packages: PackageSpec[];
}
