/**
 * The rules an operation must meet beyond its JSON shape, checked at submit time so that what is
 * accepted can run: a pool this deployment serves, nothing that needs Docker, valid quantities and
 * image references, files that stay inside the workspace, and at most 1 MiB of payload (the size of
 * one Kubernetes Secret).
 */
import path from 'node:path';
import type { OperationRequest } from './contract/operation.js';
import { KubeWorkerError } from './errors.js';
import { imageReferenceProblem } from './image-reference.js';
import { parseQuantity } from './quantity.js';

export const MAX_PAYLOAD_BYTES = 1024 * 1024;

export interface OperationPolicy {
  pools: readonly string[];
  /** The most an operation may request or limit; absent means no maximum. */
  maxResources?: { cpu?: string; memory?: string };
  /** Service accounts an operation may name for its script pod. */
  allowedServiceAccounts?: readonly string[];
}

/** Bytes of script, files (decoded) and variables: what must fit in one Secret. */
export function payloadBytes(request: OperationRequest): number {
  let total = Buffer.byteLength(request.script.body);
  for (const file of request.files ?? []) total += Buffer.byteLength(file.name) + Math.floor((file.content.length * 3) / 4);
  for (const [name, variable] of Object.entries(request.variables ?? {})) {
    total += Buffer.byteLength(name) + Buffer.byteLength(variable.value);
  }
  for (const argument of request.arguments ?? []) total += Buffer.byteLength(argument);
  return total;
}

function checkDocker(request: OperationRequest): void {
  const dockerPackage = request.packages?.find((p) => p.type.toLowerCase() === 'docker');
  if (dockerPackage) {
    throw new KubeWorkerError(
      'KW_ERR_DOCKER_UNSUPPORTED',
      `packages: "${dockerPackage.image ?? dockerPackage.id ?? 'docker'}" is a Docker image package; this worker has no Docker to fetch it. Run the step on a worker with Docker, or use the image as the step's container instead.`,
    );
  }
  if (request.container?.build !== undefined) {
    throw new KubeWorkerError(
      'KW_ERR_DOCKER_UNSUPPORTED',
      'container.build: an inline execution container needs Docker to build, which this worker does not have. Build and push the image, then name it in container.image.',
    );
  }
  const requires = request.requires ?? [];
  if (requires.some((r) => r.toLowerCase() === 'docker')) {
    throw new KubeWorkerError('KW_ERR_DOCKER_UNSUPPORTED', 'requires: this operation needs Docker, which this worker does not have. Run it on a worker with Docker.');
  }
  if (requires.length > 0) {
    throw new KubeWorkerError('KW_ERR_UNSUPPORTED_REQUIREMENT', `requires: "${requires[0]}" is not a capability this worker offers.`);
  }
}

function checkQuantities(request: OperationRequest): void {
  for (const kind of ['requests', 'limits'] as const) {
    const list = request.resources?.[kind];
    for (const resource of ['cpu', 'memory'] as const) {
      const text = list?.[resource];
      if (text === undefined) continue;
      const value = parseQuantity(text);
      if (value === undefined || value <= 0) {
        throw new KubeWorkerError(
          'KW_ERR_INVALID_QUANTITY',
          `resources.${kind}.${resource}: "${text}" is not a positive Kubernetes quantity (e.g. ${resource === 'cpu' ? '250m or 1' : '256Mi or 1Gi'}).`,
        );
      }
    }
  }
  const { requests, limits } = request.resources ?? {};
  for (const resource of ['cpu', 'memory'] as const) {
    const asked = requests?.[resource];
    const cap = limits?.[resource];
    if (asked && cap && parseQuantity(asked)! > parseQuantity(cap)!) {
      throw new KubeWorkerError('KW_ERR_INVALID_QUANTITY', `resources: the ${resource} request ${asked} is above its limit ${cap}.`);
    }
  }
}

function checkMaximum(request: OperationRequest, maximum: OperationPolicy['maxResources']): void {
  for (const kind of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory'] as const) {
      const asked = request.resources?.[kind]?.[resource];
      const cap = maximum?.[resource];
      if (asked && cap && parseQuantity(asked)! > parseQuantity(cap)!) {
        throw new KubeWorkerError(
          'KW_ERR_RESOURCES_EXCEED_MAXIMUM',
          `resources.${kind}.${resource}: ${asked} is more than this worker allows (at most ${cap}); ask for less or raise the maximum (KUBE_WORKER_SCRIPT_MAX_${resource.toUpperCase()}).`,
        );
      }
    }
  }
}

function checkServiceAccount(request: OperationRequest, allowed: readonly string[]): void {
  const name = request.serviceAccountName;
  if (name !== undefined && !allowed.includes(name)) {
    throw new KubeWorkerError(
      'KW_ERR_SERVICE_ACCOUNT_NOT_ALLOWED',
      allowed.length === 0
        ? `serviceAccountName: this worker does not let operations choose a service account; leave it out to use the worker's.`
        : `serviceAccountName: "${name}" is not allowed; choose one of ${allowed.map((a) => `"${a}"`).join(', ')}.`,
    );
  }
}

function checkFiles(request: OperationRequest): void {
  const seen = new Set<string>();
  for (const file of request.files ?? []) {
    const name = file.name;
    const normal = path.posix.normalize(name);
    if (name.includes('\\') || name.includes('\0') || path.posix.isAbsolute(name) || normal === '..' || normal.startsWith('../') || normal === '.' || name.endsWith('/')) {
      throw new KubeWorkerError('KW_ERR_INVALID_FILE', `files: "${name}" must be a relative path inside the workspace, like config/app.json.`);
    }
    if (seen.has(normal)) throw new KubeWorkerError('KW_ERR_INVALID_FILE', `files: "${name}" is given twice.`);
    seen.add(normal);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(file.content) || file.content.length % 4 !== 0) {
      throw new KubeWorkerError('KW_ERR_INVALID_FILE', `files: the content of "${name}" is not valid base64.`);
    }
  }
}

/** Throws a KubeWorkerError saying what to fix; returns when the operation can run here. */
export function checkOperation(request: OperationRequest, policy: OperationPolicy): void {
  const size = payloadBytes(request);
  if (size > MAX_PAYLOAD_BYTES) {
    throw new KubeWorkerError(
      'KW_ERR_TOO_LARGE',
      `script, files and variables come to ${size} bytes; at most ${MAX_PAYLOAD_BYTES} (1 MiB) fit. Move large files into a package.`,
    );
  }
  if (!policy.pools.includes(request.pool)) {
    throw new KubeWorkerError('KW_ERR_UNKNOWN_POOL', `pool: "${request.pool}" is not served here; this worker serves ${policy.pools.map((p) => `"${p}"`).join(', ')}.`);
  }
  checkDocker(request);
  const image = request.container?.image;
  if (image !== undefined) {
    const problem = imageReferenceProblem(image);
    if (problem) throw new KubeWorkerError('KW_ERR_INVALID_IMAGE', `container.image: "${image}" cannot be a valid image reference: ${problem}.`);
  }
  checkQuantities(request);
  checkMaximum(request, policy.maxResources);
  checkServiceAccount(request, policy.allowedServiceAccounts ?? []);
  checkFiles(request);
}
