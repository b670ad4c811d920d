/**
 * What kube-worker itself puts in an operation's workspace, beside the operation's files: its own
 * folder (the local runtime writes the script there) and, from core/package-layout.ts, a folder per
 * package. The rules refuse files that would land on either.
 */
import type { OperationRequest } from './contract/operation.js';
import { PACKAGES_DIR } from './package-layout.js';

/** The local runtime's folder in the workspace: `.kube-worker/script.sh` is the script it runs. */
export const OWN_DIR = '.kube-worker';

export interface ReservedFolder {
  path: string;
  /** Why an operation's file cannot go there, for the refusal. */
  why: string;
}

/** Folders of the workspace that kube-worker fills itself, for this operation. */
export function reservedFolders(request: Pick<OperationRequest, 'packages'>): ReservedFolder[] {
  const packages = (request.packages ?? []).filter((pkg) => pkg.type?.toLowerCase() !== 'docker' && pkg.name !== undefined);
  return [
    { path: OWN_DIR, why: `${OWN_DIR}/ is kube-worker's own folder (the script is written there)` },
    ...packages.map((pkg) => ({ path: `${PACKAGES_DIR}/${pkg.name!}`, why: `${PACKAGES_DIR}/${pkg.name!}/ is where package "${pkg.name!}" is unpacked` })),
  ];
}
