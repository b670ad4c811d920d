/**
 * The rules an operation must meet beyond its JSON shape, checked at submit time so that what is
 * accepted can run: a pool this deployment serves, nothing that needs Docker, valid quantities and
 * image references, files that stay inside the workspace, variables and arguments a process can be
 * given, and at most 1 MiB in the operation's Secret.
 */
import path from 'node:path';
import type { OperationRequest } from './contract/operation.js';
import { KubeWorkerError } from './errors.js';
import { imageReferenceProblem } from './image-reference.js';
import { packageVariable } from './package-layout.js';
import { reservedFolders } from './workspace-layout.js';
import { checkPackageUrl, type PackageSource } from './package-sources.js';
import { parseQuantity } from './quantity.js';

/** What the Kubernetes API server lets one Secret hold: the decoded bytes of its values. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * Linux's MAX_ARG_STRLEN: the longest single string exec accepts, counted with its NUL — an
 * argument, or a variable as `NAME=value`. Longer ones fail at run time with E2BIG.
 */
export const MAX_EXEC_STRING_BYTES = 128 * 1024;

/**
 * More than the launcher the kubernetes runtime puts next to the script in the Secret holds
 * besides the interpreter's arguments (about 400 bytes; a unit test builds the real Secret).
 */
const LAUNCHER_ALLOWANCE = 1024;

/** Deeper JSON than any real operation has; also keeps hashing and storing the body off the stack's limit. */
export const MAX_JSON_DEPTH = 32;

/**
 * The shortest sensitive value accepted (empty aside: there is nothing to mask). Every occurrence of
 * a sensitive value is masked in the output; one of 1–3 characters would be found inside ordinary
 * words, the product's own lines included, and the gaps would give it away.
 */
export const MIN_SENSITIVE_CHARACTERS = 4;

/** A sensitive value too short to mask; counted in characters, as a reader sees them. */
const tooShortToMask = (value: string): boolean => value !== '' && [...value].length < MIN_SENSITIVE_CHARACTERS;

/** A name a process environment can carry and every runtime passes on (Kubernetes' rule too). */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Variables a caller may not set, because they cannot be honoured as asked:
 * - names kube-worker sets itself for every script (KUBE_WORKER_TICKET, KUBE_WORKER_WORKSPACE, …);
 * - the dynamic loader's (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, … and macOS's DYLD_*), which would
 *   act on the interpreter and the launcher before the script, not only on what the script runs;
 * - PATH, by which the runtime finds the interpreter (a script that needs more sets it itself:
 *   `export PATH="/opt/tools/bin:$PATH"`);
 * - what makes a shell run other code before the script or parse it differently.
 */
const RESERVED_PREFIXES: ReadonlyArray<[string, string]> = [
  ['KUBE_WORKER_', 'kube-worker sets KUBE_WORKER_* variables itself for every script'],
  ['LD_', "the dynamic loader's variables act on the interpreter before the script runs; set them inside the script for the commands that need them"],
  ['DYLD_', "the dynamic loader's variables act on the interpreter before the script runs; set them inside the script for the commands that need them"],
];
const RESERVED_NAMES: ReadonlyMap<string, string> = new Map([
  ['PATH', 'the runtime finds the interpreter through PATH; extend it inside the script instead: export PATH="/your/bin:$PATH"'],
  ['BASH_ENV', 'it makes bash run another file before the script'],
  ['ENV', 'it makes sh run another file before the script'],
  ['SHELLOPTS', 'it changes how the shell reads the launcher and the script'],
  ['BASHOPTS', 'it changes how the shell reads the launcher and the script'],
]);

export interface OperationPolicy {
  pools: readonly string[];
  /** The most an operation may request or limit; absent means no maximum. */
  maxResources?: { cpu?: string; memory?: string };
  /** The limits a script pod gets when its operation sets none (KUBE_WORKER_SCRIPT_LIMITS_*). */
  defaultLimits?: { cpu?: string; memory?: string };
  /** Service accounts an operation may name for its script pod. */
  allowedServiceAccounts?: readonly string[];
  /** Where packages may come from; none refuses every package. */
  packageSources?: readonly PackageSource[];
}

/** Decoded bytes of valid base64. */
const base64Bytes = (content: string): number => Math.ceil((content.length / 4) * 3) - (content.endsWith('==') ? 2 : content.endsWith('=') ? 1 : 0);

/**
 * At least what the operation's Secret holds, as the API server counts it (the decoded bytes of its
 * values): the script, each file's content, each variable's value, and the launcher, which carries
 * the arguments single-quoted (each ' becomes 4 bytes). The local runtime holds no more than this.
 */
export function secretBytes(request: OperationRequest): number {
  let total = LAUNCHER_ALLOWANCE + Buffer.byteLength(request.script.body);
  for (const file of request.files ?? []) total += base64Bytes(file.content);
  for (const variable of Object.values(request.variables ?? {})) total += Buffer.byteLength(variable.value);
  for (const argument of request.arguments ?? []) {
    total += Buffer.byteLength(argument) + 3 + 3 * (argument.split("'").length - 1);
  }
  // The packages' list goes into the Secret as JSON, headers and all.
  if (request.packages?.length) total += Buffer.byteLength(JSON.stringify(request.packages)) + LAUNCHER_ALLOWANCE;
  return total;
}

function checkDocker(request: OperationRequest): void {
  const dockerPackage = request.packages?.find((p) => p.type?.toLowerCase() === 'docker');
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
    throw new KubeWorkerError(
      'KW_ERR_DOCKER_UNSUPPORTED',
      'requires: this operation needs Docker, which this worker does not have. Run it on a worker with Docker.',
    );
  }
  if (requires.length > 0) {
    throw new KubeWorkerError('KW_ERR_UNSUPPORTED_REQUIREMENT', `requires: "${requires[0]}" is not a capability this worker offers.`);
  }
}

const FORBIDDEN_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer', 'keep-alive', 'proxy-connection']);

const HOW_TO_ALLOW =
  "An operator allows a source by listing its URL prefix in KUBE_WORKER_PACKAGE_SOURCES (the chart's packages.sources), e.g. https://feed.example.com/packages/.";

function checkPackages(request: OperationRequest, sources: readonly PackageSource[]): void {
  const names = new Map<string, string>();
  (request.packages ?? []).forEach((pkg, i) => {
    if (pkg.type?.toLowerCase() === 'docker') return; // refused by checkDocker
    const where = `packages[${i}]${pkg.name ? ` ("${pkg.name}")` : ''}`;
    const missing = (['name', 'url', 'sha256'] as const).filter((field) => pkg[field] === undefined);
    if (missing.length > 0) {
      throw new KubeWorkerError(
        'KW_ERR_INVALID_PACKAGE',
        `${where}: a package needs name, url and sha256; ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing.`,
      );
    }
    const variable = packageVariable(pkg.name!);
    const clash = names.get(variable);
    if (clash !== undefined) {
      throw new KubeWorkerError(
        'KW_ERR_INVALID_PACKAGE',
        `${where}: its name and "${clash}" both become ${variable}; give the packages names that differ in more than case or punctuation.`,
      );
    }
    names.set(variable, pkg.name!);
    for (const [name, header] of Object.entries(pkg.headers ?? {})) {
      if (FORBIDDEN_HEADERS.has(name.toLowerCase()))
        throw new KubeWorkerError('KW_ERR_INVALID_PACKAGE', `${where}: the header ${name} is set by the download itself and cannot be given.`);
      // Values are never quoted back: they may be secret.
      if (/[\r\n\0]/.test(header.value))
        throw new KubeWorkerError('KW_ERR_INVALID_PACKAGE', `${where}: the value of header ${name} holds a line break or NUL, which a header cannot carry.`);
      if (header.sensitive && tooShortToMask(header.value)) {
        throw new KubeWorkerError(
          'KW_ERR_INVALID_PACKAGE',
          `${where}: the value of sensitive header ${name} is shorter than ${MIN_SENSITIVE_CHARACTERS} characters, too short to be masked in the output.`,
        );
      }
    }
    if (sources.length === 0) {
      throw new KubeWorkerError(
        'KW_ERR_PACKAGE_SOURCE_NOT_ALLOWED',
        `${where}: this worker allows no package source, so it fetches no packages. ${HOW_TO_ALLOW}`,
      );
    }
    const checked = checkPackageUrl(pkg.url!, sources);
    if ('problem' in checked) {
      // The URL may carry a token in its query: only its origin and path are quoted.
      const shown = URL.canParse(pkg.url!) ? (({ origin, pathname }) => origin + pathname)(new URL(pkg.url!)) : 'the url';
      const code = checked.problem.startsWith('is not under') ? 'KW_ERR_PACKAGE_SOURCE_NOT_ALLOWED' : 'KW_ERR_INVALID_PACKAGE';
      throw new KubeWorkerError(code, `${where}: ${shown} ${checked.problem}. Allowed: ${sources.map((s) => s.text).join(', ')}. ${HOW_TO_ALLOW}`);
    }
  });
}

/**
 * Each quantity parses, and each request fits the limit its pod will have: the operation's own, or
 * the deployment's default when it sets none (Kubernetes refuses a container whose request is above
 * its limit, and would only say so once the Job is created).
 */
function checkQuantities(request: OperationRequest, defaultLimits: OperationPolicy['defaultLimits']): void {
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
    const own = limits?.[resource];
    const cap = own ?? defaultLimits?.[resource];
    if (!asked || !cap || parseQuantity(asked)! <= parseQuantity(cap)!) continue;
    throw new KubeWorkerError(
      'KW_ERR_INVALID_QUANTITY',
      own
        ? `resources: the ${resource} request ${asked} is above its limit ${cap}.`
        : `resources: the ${resource} request ${asked} is above this worker's default ${resource} limit ${cap} (KUBE_WORKER_SCRIPT_LIMITS_${resource.toUpperCase()}); set resources.limits.${resource} too, at or above the request.`,
    );
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

/** Each folder `name` lies in: "a/b/c" → "a", "a/b". */
const folders = (name: string): string[] =>
  name
    .split('/')
    .slice(0, -1)
    .map((_, i, parts) => parts.slice(0, i + 1).join('/'));

/** `inner` is `outer` or lies inside it; case-insensitive, as a workspace on macOS or Windows is. */
const within = (inner: string, outer: string): boolean => {
  const a = inner.toLowerCase();
  const b = outer.toLowerCase();
  return a === b || a.startsWith(`${b}/`);
};

function checkFiles(request: OperationRequest): void {
  const seen = new Set<string>();
  const reserved = reservedFolders(request);
  for (const file of request.files ?? []) {
    const name = file.name;
    const normal = path.posix.normalize(name);
    if (
      name.includes('\\') ||
      name.includes('\0') ||
      path.posix.isAbsolute(name) ||
      normal === '..' ||
      normal.startsWith('../') ||
      normal === '.' ||
      name.endsWith('/')
    ) {
      throw new KubeWorkerError('KW_ERR_INVALID_FILE', `files: "${name}" must be a relative path inside the workspace, like config/app.json.`);
    }
    if (seen.has(normal)) throw new KubeWorkerError('KW_ERR_INVALID_FILE', `files: "${name}" is given twice.`);
    seen.add(normal);
    // A file on a reserved folder, inside it, or on one of the folders it lies in would replace it.
    const taken = reserved.find((folder) => within(normal, folder.path) || within(folder.path, normal));
    if (taken) throw new KubeWorkerError('KW_ERR_INVALID_FILE', `files: "${name}" cannot be placed: ${taken.why}. Choose another name.`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(file.content) || file.content.length % 4 !== 0) {
      throw new KubeWorkerError('KW_ERR_INVALID_FILE', `files: the content of "${name}" is not valid base64.`);
    }
  }
  for (const name of seen) {
    const clash = folders(name).find((folder) => seen.has(folder));
    if (clash !== undefined) {
      throw new KubeWorkerError(
        'KW_ERR_INVALID_FILE',
        `files: "${clash}" and "${name}" cannot both be given: "${clash}" would be a file and a folder at once.`,
      );
    }
  }
}

/** Why a variable name cannot be honoured, or undefined when it can. Never looks at the value. */
function variableNameProblem(name: string): string | undefined {
  if (name === '') return 'the empty name cannot be a variable';
  if (name.includes('\0')) return `"${name.replace(/\0/g, '\\0')}": a name cannot contain NUL`;
  if (name.includes('=')) return `"${name}": a name cannot contain "=" (the environment separates name and value with it)`;
  if (!VARIABLE_NAME.test(name)) return `"${name}": a name must start with a letter or _ and hold only letters, digits, _, . and -`;
  const reserved = RESERVED_NAMES.get(name) ?? RESERVED_PREFIXES.find(([prefix]) => name.startsWith(prefix))?.[1];
  return reserved === undefined ? undefined : `"${name}" cannot be set: ${reserved}`;
}

function checkVariables(request: OperationRequest): void {
  for (const [name, variable] of Object.entries(request.variables ?? {})) {
    const problem = variableNameProblem(name);
    if (problem) throw new KubeWorkerError('KW_ERR_INVALID_VARIABLE', `variables: ${problem}.`);
    // Values are never quoted back: they may be secret.
    if (variable.value.includes('\0')) {
      throw new KubeWorkerError(
        'KW_ERR_INVALID_VARIABLE',
        `variables: "${name}": the value cannot contain NUL (an environment variable ends at the first NUL).`,
      );
    }
    if (variable.sensitive && tooShortToMask(variable.value)) {
      throw new KubeWorkerError(
        'KW_ERR_INVALID_VARIABLE',
        `variables: "${name}" is sensitive but shorter than ${MIN_SENSITIVE_CHARACTERS} characters, too short to be masked in the output; use a longer value or make it not sensitive.`,
      );
    }
    const bytes = Buffer.byteLength(name) + 1 + Buffer.byteLength(variable.value) + 1;
    if (bytes > MAX_EXEC_STRING_BYTES) {
      throw new KubeWorkerError(
        'KW_ERR_INVALID_VARIABLE',
        `variables: "${name}" comes to ${bytes} bytes as NAME=value; a process accepts at most ${MAX_EXEC_STRING_BYTES} bytes in one variable. Send the value as a file instead.`,
      );
    }
  }
}

function checkArguments(request: OperationRequest): void {
  (request.arguments ?? []).forEach((argument, i) => {
    if (argument.includes('\0')) throw new KubeWorkerError('KW_ERR_INVALID_ARGUMENT', `arguments[${i}]: an argument cannot contain NUL.`);
    const bytes = Buffer.byteLength(argument) + 1;
    if (bytes > MAX_EXEC_STRING_BYTES) {
      throw new KubeWorkerError(
        'KW_ERR_INVALID_ARGUMENT',
        `arguments[${i}] comes to ${bytes} bytes; a process accepts at most ${MAX_EXEC_STRING_BYTES} bytes in one argument. Send it as a file instead.`,
      );
    }
  });
}

/** Walks without recursion: the point is to refuse what would overflow the stack. */
function checkDepth(request: OperationRequest): void {
  const pending: Array<[unknown, number]> = [[request, 1]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_JSON_DEPTH)
      throw new KubeWorkerError('KW_ERR_VALIDATION', `body: nested more than ${MAX_JSON_DEPTH} levels deep; no operation needs that.`);
    for (const child of Object.values(value)) pending.push([child, depth + 1]);
  }
}

/** Throws a KubeWorkerError saying what to fix; returns when the operation can run here. */
export function checkOperation(request: OperationRequest, policy: OperationPolicy): void {
  checkDepth(request);
  const size = secretBytes(request);
  if (size > MAX_PAYLOAD_BYTES) {
    throw new KubeWorkerError(
      'KW_ERR_TOO_LARGE',
      `script, files and variables come to ${size} bytes with the launcher; at most ${MAX_PAYLOAD_BYTES} (1 MiB, what one Secret holds) fit. Move large files into a package.`,
    );
  }
  if (!policy.pools.includes(request.pool)) {
    throw new KubeWorkerError(
      'KW_ERR_UNKNOWN_POOL',
      `pool: "${request.pool}" is not served here; this worker serves ${policy.pools.map((p) => `"${p}"`).join(', ')}.`,
    );
  }
  checkDocker(request);
  const image = request.container?.image;
  if (image !== undefined) {
    const problem = imageReferenceProblem(image);
    if (problem) throw new KubeWorkerError('KW_ERR_INVALID_IMAGE', `container.image: "${image}" cannot be a valid image reference: ${problem}.`);
  }
  checkQuantities(request, policy.defaultLimits);
  checkMaximum(request, policy.maxResources);
  checkServiceAccount(request, policy.allowedServiceAccounts ?? []);
  checkPackages(request, policy.packageSources ?? []);
  checkFiles(request);
  checkVariables(request);
  checkArguments(request);
}
