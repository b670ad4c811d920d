import { describe, expect, it } from 'vitest';
import type { OperationRequest } from '../../core/contract/operation.js';
import { KubeWorkerError, type ErrorCode } from '../../core/errors.js';
import { readConfig } from '../../core/config.js';
import { MAX_PAYLOAD_BYTES, MIN_SENSITIVE_CHARACTERS, checkOperation, secretBytes } from '../../core/operation-rules.js';
import { buildScriptJob } from '../../executor/kubernetes/job-spec.js';
import { parseSource, type PackageSource } from '../../core/package-sources.js';

const policy = { pools: ['default', 'gpu'], packageSources: [parseSource('https://feed.example.com/nuget/') as PackageSource] };

const operation = (extra: Partial<OperationRequest> = {}): OperationRequest => ({
  pool: 'default',
  script: { syntax: 'bash', body: 'echo hello' },
  ...extra,
});

const b64 = (text: string): string => Buffer.from(text).toString('base64');

function refusal(request: OperationRequest): KubeWorkerError {
  try {
    checkOperation(request, policy);
  } catch (error) {
    expect(error).toBeInstanceOf(KubeWorkerError);
    return error as KubeWorkerError;
  }
  throw new Error('the operation was accepted');
}

describe('checkOperation', () => {
  it.each<[string, OperationRequest]>([
    ['a minimal operation', operation()],
    ['an operation for another served pool', operation({ pool: 'gpu' })],
    [
      'a full valid operation',
      operation({
        arguments: ['--verbose'],
        files: [
          { name: 'config/app.json', content: b64('{"a":1}') },
          { name: './scripts/run.sh', content: b64('echo') },
          { name: 'empty.txt', content: '' },
        ],
        variables: { Version: { value: '1.2.3' }, Password: { value: 's3cret', sensitive: true } },
        container: { image: 'ghcr.io/acme/tools:1.2', pullPolicy: 'IfNotPresent' },
        resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
        packages: [
          { type: 'NuGet', id: 'Acme.Web', name: 'web', url: 'https://feed.example.com/nuget/Acme.Web.1.0.0.nupkg', sha256: '0'.repeat(64), extract: 'zip' },
        ],
        requires: [],
      }),
    ],
    ['a request equal to its limit', operation({ resources: { requests: { cpu: '1' }, limits: { cpu: '1000m' } } })],
  ])('accepts %s', (_case, request) => {
    expect(() => checkOperation(request, policy)).not.toThrow();
  });

  it.each<[string, OperationRequest, ErrorCode, string]>([
    [
      'a script over 1 MiB',
      operation({ script: { syntax: 'bash', body: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) } }),
      'KW_ERR_TOO_LARGE',
      'script, files and variables',
    ],
    [
      'files that add up to more than 1 MiB',
      operation({ files: [{ name: 'big.bin', content: 'A'.repeat(1_400_000) }] }),
      'KW_ERR_TOO_LARGE',
      'script, files and variables',
    ],
    [
      'variables that add up to more than 1 MiB',
      operation({ variables: { BIG: { value: 'v'.repeat(MAX_PAYLOAD_BYTES) } } }),
      'KW_ERR_TOO_LARGE',
      'script, files and variables',
    ],
    ['a pool this worker does not serve', operation({ pool: 'windows' }), 'KW_ERR_UNKNOWN_POOL', 'pool: "windows"'],
    ['a docker package', operation({ packages: [{ type: 'docker', image: 'nginx:1' }] }), 'KW_ERR_DOCKER_UNSUPPORTED', 'packages: "nginx:1"'],
    ['a Docker package in another case', operation({ packages: [{ type: 'Docker', id: 'redis' }] }), 'KW_ERR_DOCKER_UNSUPPORTED', 'packages: "redis"'],
    [
      'a package with nothing to fetch it by (no longer ignored)',
      operation({ packages: [{ type: 'NuGet', id: 'Acme.Web' }] }),
      'KW_ERR_INVALID_PACKAGE',
      'a package needs name, url and sha256',
    ],
    ['an inline container build', operation({ container: { build: { dockerfile: 'FROM alpine' } } }), 'KW_ERR_DOCKER_UNSUPPORTED', 'container.build'],
    ['a requirement of docker', operation({ requires: ['docker'] }), 'KW_ERR_DOCKER_UNSUPPORTED', 'requires'],
    ['a requirement of Docker in another case', operation({ requires: ['Docker'] }), 'KW_ERR_DOCKER_UNSUPPORTED', 'requires'],
    ['an unknown requirement', operation({ requires: ['gpu'] }), 'KW_ERR_UNSUPPORTED_REQUIREMENT', 'requires: "gpu"'],
    ['an invalid image reference', operation({ container: { image: 'Nginx' } }), 'KW_ERR_INVALID_IMAGE', 'container.image: "Nginx"'],
    ['an image given as a URL', operation({ container: { image: 'https://ghcr.io/a' } }), 'KW_ERR_INVALID_IMAGE', 'container.image'],
    ['an unparsable cpu request', operation({ resources: { requests: { cpu: 'lots' } } }), 'KW_ERR_INVALID_QUANTITY', 'resources.requests.cpu'],
    ['a negative memory limit', operation({ resources: { limits: { memory: '-1' } } }), 'KW_ERR_INVALID_QUANTITY', 'resources.limits.memory'],
    ['a zero cpu limit', operation({ resources: { limits: { cpu: '0' } } }), 'KW_ERR_INVALID_QUANTITY', 'resources.limits.cpu'],
    ['a memory quantity with a bare suffix', operation({ resources: { requests: { memory: 'Mi' } } }), 'KW_ERR_INVALID_QUANTITY', 'resources.requests.memory'],
    [
      'a cpu request above its limit',
      operation({ resources: { requests: { cpu: '2' }, limits: { cpu: '1500m' } } }),
      'KW_ERR_INVALID_QUANTITY',
      'resources: the cpu request 2',
    ],
    [
      'a memory request above its limit',
      operation({ resources: { requests: { memory: '1Gi' }, limits: { memory: '1000Mi' } } }),
      'KW_ERR_INVALID_QUANTITY',
      'resources: the memory request 1Gi',
    ],
    ['a file that climbs out of the workspace', operation({ files: [{ name: '../x', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "../x"'],
    ['a file with an absolute path', operation({ files: [{ name: '/etc/passwd', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "/etc/passwd"'],
    ['a file that climbs out after normalisation', operation({ files: [{ name: 'a/../../b', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "a/../../b"'],
    ['a file that names the workspace itself', operation({ files: [{ name: 'a/..', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "a/.."'],
    ['a file name ending in a slash', operation({ files: [{ name: 'dir/', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "dir/"'],
    ['a file name with a backslash', operation({ files: [{ name: 'a\\b', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "a\\b"'],
    ['a file name with a NUL byte', operation({ files: [{ name: 'a\0b', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files:'],
    [
      'the same file twice',
      operation({
        files: [
          { name: 'a.txt', content: '' },
          { name: 'a.txt', content: '' },
        ],
      }),
      'KW_ERR_INVALID_FILE',
      'files: "a.txt" is given twice',
    ],
    [
      'the same file twice under another spelling',
      operation({
        files: [
          { name: 'a/b', content: '' },
          { name: './a//b', content: '' },
        ],
      }),
      'KW_ERR_INVALID_FILE',
      'files: "./a//b" is given twice',
    ],
    [
      'file content that is not base64',
      operation({ files: [{ name: 'a.txt', content: 'not base64!' }] }),
      'KW_ERR_INVALID_FILE',
      'files: the content of "a.txt"',
    ],
    ['base64 content of a wrong length', operation({ files: [{ name: 'a.txt', content: 'YWJ' }] }), 'KW_ERR_INVALID_FILE', 'files: the content of "a.txt"'],
    [
      'base64 content with padding in the middle',
      operation({ files: [{ name: 'a.txt', content: 'YQ==YQ==' }] }),
      'KW_ERR_INVALID_FILE',
      'files: the content of "a.txt"',
    ],
  ])('refuses %s with %s', (_case, request, code, field) => {
    const error = refusal(request);
    expect(error.code).toBe(code);
    expect(error.message).toContain(field);
  });

  it('reports the payload size before the pool', () => {
    const error = refusal(operation({ pool: 'windows', script: { syntax: 'bash', body: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) } }));
    expect(error.code).toBe('KW_ERR_TOO_LARGE');
    expect(error.message).toContain(String(secretBytes(operation({ script: { syntax: 'bash', body: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) } }))));
  });

  it('names the pools it serves when the pool is unknown', () => {
    expect(refusal(operation({ pool: 'windows' })).message).toContain('"default", "gpu"');
  });

  it('gives the status and title of the error catalogue', () => {
    const error = refusal(operation({ requires: ['docker'] }));
    expect(error.status).toBe(422);
    expect(error.title).toBe('This worker has no Docker');
  });
});

describe('the variables and arguments a script can be given', () => {
  const kib128 = 128 * 1024;
  it.each<[string, OperationRequest, RegExp]>([
    ['a name with =', operation({ variables: { 'A=B': { value: 'x' } } }), /"A=B": a name cannot contain "="/],
    ['an empty name', operation({ variables: { '': { value: 'x' } } }), /the empty name/],
    ['a name with NUL', operation({ variables: { 'A\0B': { value: 'x' } } }), /cannot contain NUL/],
    ['a name that starts with a digit', operation({ variables: { '1A': { value: 'x' } } }), /"1A": a name must start with a letter or _/],
    ['a name of the product', operation({ variables: { KUBE_WORKER_TICKET: { value: 'x' } } }), /"KUBE_WORKER_TICKET".*kube-worker sets/],
    ["the dynamic loader's LD_PRELOAD", operation({ variables: { LD_PRELOAD: { value: '/tmp/x.so' } } }), /"LD_PRELOAD".*loader/],
    ["the dynamic loader's LD_LIBRARY_PATH", operation({ variables: { LD_LIBRARY_PATH: { value: '/tmp' } } }), /"LD_LIBRARY_PATH".*loader/],
    ['PATH', operation({ variables: { PATH: { value: '/opt/bin' } } }), /"PATH".*export PATH=/],
    ['BASH_ENV', operation({ variables: { BASH_ENV: { value: '/tmp/rc' } } }), /"BASH_ENV"/],
    ['a value with NUL', operation({ variables: { V: { value: 'a\0b', sensitive: true } } }), /"V": the value cannot contain NUL/],
    ['a value of 128 KiB', operation({ variables: { V: { value: 'x'.repeat(kib128) } } }), /"V".*131072 bytes.*file/],
  ])('refuses %s with 422', (_case, request, detail) => {
    const error = refusal(request);
    expect(error.code).toBe('KW_ERR_INVALID_VARIABLE');
    expect(error.status).toBe(422);
    expect(error.message).toMatch(detail);
  });

  it('never repeats a value in its reason', () => {
    expect(refusal(operation({ variables: { V: { value: 's3cret\0', sensitive: true } } })).message).not.toContain('s3cret');
  });

  it.each<[string, OperationRequest, RegExp]>([
    ['an argument with NUL', operation({ arguments: ['a\0b'] }), /arguments\[0\]: an argument cannot contain NUL/],
    ['an argument of 128 KiB', operation({ arguments: ['ok', 'x'.repeat(kib128)] }), /arguments\[1\].*131072 bytes/],
  ])('refuses %s with 422', (_case, request, detail) => {
    const error = refusal(request);
    expect(error.code).toBe('KW_ERR_INVALID_ARGUMENT');
    expect(error.message).toMatch(detail);
  });

  it.each<[string, OperationRequest]>([
    ['dotted and dashed names', operation({ variables: { 'Octopus.Action.Name': { value: 'x' }, 'my-var': { value: 'y' }, _under: { value: '' } } })],
    ['names that only look like reserved ones', operation({ variables: { ld_preload: { value: 'x' }, KUBE_WORKERS: { value: 'y' }, MYPATH: { value: 'z' } } })],
    ['a value just under the limit of one string', operation({ variables: { V: { value: 'x'.repeat(kib128 - 'V='.length - 1) } } })],
  ])('accepts %s', (_case, request) => {
    expect(() => checkOperation(request, policy)).not.toThrow();
  });
});

describe('the 1 MiB limit', () => {
  const settings = readConfig({});
  /** What the Kubernetes API server counts against a Secret's 1 MiB: the decoded bytes of its values. */
  const realSecretBytes = (request: OperationRequest): number =>
    Object.values(buildScriptJob('t', request, 60, settings).secret.data ?? {}).reduce((sum, value) => sum + Buffer.from(value, 'base64').length, 0);

  it.each<[string, OperationRequest]>([
    ['a script alone', operation()],
    ['quoted arguments', operation({ arguments: ["it's", "'''", 'plain', ''] })],
    [
      'files with and without padding',
      operation({
        files: [
          { name: 'a', content: 'YQ==' },
          { name: 'b', content: 'YWI=' },
          { name: 'c', content: 'YWJj' },
        ],
      }),
    ],
    ['variables', operation({ variables: { A: { value: 'é€' }, B: { value: '' } } })],
  ])('counts at least what the Secret holds for %s', (_case, request) => {
    expect(secretBytes(request)).toBeGreaterThanOrEqual(realSecretBytes(request));
  });

  it('refuses a script of exactly 1 MiB, which cannot fit in a Secret next to its launcher', () => {
    expect(refusal(operation({ script: { syntax: 'bash', body: 'x'.repeat(MAX_PAYLOAD_BYTES) } })).code).toBe('KW_ERR_TOO_LARGE');
  });

  it('accepts the largest script that fits, and its Secret is within 1 MiB', () => {
    const base = operation({ script: { syntax: 'bash', body: '' }, arguments: ["don't"] });
    const largest = operation({ ...base, script: { syntax: 'bash', body: 'x'.repeat(MAX_PAYLOAD_BYTES - secretBytes(base)) } });
    expect(() => checkOperation(largest, policy)).not.toThrow();
    expect(realSecretBytes(largest)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });
});

describe('files that would collide in the workspace', () => {
  const file = (name: string): { name: string; content: string } => ({ name, content: '' });
  const withPackage = (files: string[]): OperationRequest =>
    operation({ files: files.map(file), packages: [{ name: 'app', url: 'https://feed.example.com/nuget/app.tar.gz', sha256: '0'.repeat(64) }] });

  it.each<[string, OperationRequest, string]>([
    [
      "the local runtime's script",
      operation({ files: [file('.kube-worker/script.sh')] }),
      'files: ".kube-worker/script.sh" cannot be placed: .kube-worker/ is kube-worker\'s own folder',
    ],
    ["anything under kube-worker's own folder", operation({ files: [file('.kube-worker/other')] }), 'files: ".kube-worker/other" cannot be placed'],
    ["kube-worker's own folder spelled another way", operation({ files: [file('./x/../.kube-worker/script.py')] }), 'cannot be placed'],
    ["kube-worker's own folder in another case", operation({ files: [file('.Kube-Worker/script.sh')] }), 'cannot be placed'],
    ["a file on kube-worker's own folder", operation({ files: [file('.kube-worker')] }), 'files: ".kube-worker" cannot be placed'],
    ["a declared package's folder", withPackage(['packages/app']), 'files: "packages/app" cannot be placed: packages/app/ is where package "app" is unpacked'],
    ["a file inside a declared package's folder", withPackage(['packages/app/app.dll']), 'files: "packages/app/app.dll" cannot be placed'],
    ['a file on the folder that holds the packages', withPackage(['packages']), 'files: "packages" cannot be placed'],
    ['a file and a folder of the same name', operation({ files: [file('a'), file('a/b')] }), 'files: "a" and "a/b" cannot both be given'],
    ['a folder and then a file of the same name', operation({ files: [file('a/b/c'), file('a/b')] }), 'files: "a/b" and "a/b/c" cannot both be given'],
    [
      'a file and a folder of the same name spelled another way',
      operation({ files: [file('./a'), file('a//b')] }),
      'files: "a" and "a/b" cannot both be given',
    ],
  ])('refuses %s', (_case, request, message) => {
    const error = refusal(request);
    expect(error.code).toBe('KW_ERR_INVALID_FILE');
    expect(error.status).toBe(422);
    expect(error.message).toContain(message);
  });

  it.each<[string, OperationRequest]>([
    ['files beside the packages folder', withPackage(['packages/other/readme.txt', 'package', 'app'])],
    ["a folder named like kube-worker's but not it", operation({ files: [file('kube-worker/script.sh'), file('.kube-worker2/x')] })],
    ['files named packages/… when no package is declared', operation({ files: [file('packages/app/x')] })],
    ['files that share a folder', operation({ files: [file('a/b'), file('a/c'), file('ab')] })],
  ])('accepts %s', (_case, request) => {
    expect(() => checkOperation(request, policy)).not.toThrow();
  });
});

describe('sensitive values too short to be masked', () => {
  const header = (value: string, sensitive: boolean): OperationRequest =>
    operation({
      packages: [{ name: 'app', url: 'https://feed.example.com/nuget/app.tar.gz', sha256: '0'.repeat(64), headers: { 'X-Api-Key': { value, sensitive } } }],
    });

  it.each(['a', 'ab', 'abc', '€€€'])('refuses a sensitive variable of %j, naming the variable and never its value', (value) => {
    const error = refusal(operation({ variables: { DB_PASSWORD: { value, sensitive: true } } }));
    expect(error.code).toBe('KW_ERR_INVALID_VARIABLE');
    expect(error.message).toContain('"DB_PASSWORD"');
    expect(error.message).toContain(`shorter than ${MIN_SENSITIVE_CHARACTERS} characters`);
    expect(error.message).not.toContain(`"${value}"`);
  });

  it('refuses a sensitive package header of 3 characters, naming the header', () => {
    const error = refusal(header('k3y', true));
    expect(error.code).toBe('KW_ERR_INVALID_PACKAGE');
    expect(error.message).toContain('sensitive header X-Api-Key');
    expect(error.message).not.toContain('k3y');
  });

  it.each<[string, OperationRequest]>([
    ['a sensitive variable of 4 characters', operation({ variables: { PIN: { value: '1234', sensitive: true } } })],
    ['an empty sensitive variable (nothing to mask)', operation({ variables: { EMPTY: { value: '', sensitive: true } } })],
    ['a short variable that is not sensitive', operation({ variables: { N: { value: '1' } } })],
    ['a short header that is not sensitive', header('v1', false)],
    ['a sensitive header of 4 characters', header('k3y!', true)],
  ])('accepts %s', (_case, request) => {
    expect(() => checkOperation(request, policy)).not.toThrow();
  });
});

/**
 * Every combination of an operation's own request and limit, the deployment's default request and
 * limit, and its maximum: an operation is refused at submit exactly when the pod it would get could
 * not run — a request above the limit it would have, which Kubernetes refuses only once the Job is
 * created — or when it asks for more than the maximum; otherwise its pod gets what it asked for.
 */
describe('requests, limits, defaults and maxima together', () => {
  const quantities = [undefined, '64Mi', '256Mi', '1Gi', '4Gi'];
  const rows = quantities.flatMap((request) =>
    quantities.flatMap((limit) =>
      [undefined, '256Mi'].flatMap((defaultRequest) =>
        quantities.flatMap((defaultLimit) => [undefined, '1Gi'].map((maximum) => ({ request, limit, defaultRequest, defaultLimit, maximum }))),
      ),
    ),
  );
  const bytes = (q: string): number => Number(q.replace('Mi', '')) * 2 ** 20 || Number(q.replace('Gi', '')) * 2 ** 30;

  it.each(rows)('own request $request, own limit $limit, default request $defaultRequest, default limit $defaultLimit, maximum $maximum', (row) => {
    const request = operation({
      resources: { ...(row.request ? { requests: { memory: row.request } } : {}), ...(row.limit ? { limits: { memory: row.limit } } : {}) },
    });
    const env = {
      KUBE_WORKER_SCRIPT_REQUESTS_MEMORY: row.defaultRequest ?? '',
      ...(row.defaultLimit ? { KUBE_WORKER_SCRIPT_LIMITS_MEMORY: row.defaultLimit } : {}),
    };
    const settings = readConfig(env);
    const pod = buildScriptJob('t', request, 60, settings).job.spec!.template.spec!.containers[0]!.resources!;
    const podRequest = pod.requests?.memory;
    const podLimit = pod.limits?.memory;
    const unrunnable = podRequest !== undefined && podLimit !== undefined && bytes(podRequest) > bytes(podLimit);
    const overMaximum = row.maximum !== undefined && [row.request, row.limit].some((q) => q !== undefined && bytes(q) > bytes(row.maximum!));
    const rowPolicy = { ...policy, maxResources: { memory: row.maximum }, defaultLimits: { memory: settings.scriptLimitsMemory } };
    let code: string | undefined;
    try {
      checkOperation(request, rowPolicy);
    } catch (error) {
      code = (error as KubeWorkerError).code;
    }
    expect(code).toBe(unrunnable ? 'KW_ERR_INVALID_QUANTITY' : overMaximum ? 'KW_ERR_RESOURCES_EXCEED_MAXIMUM' : undefined);
    if (code) return;
    // Accepted: the pod has exactly what the operation set of its own.
    if (row.request) expect(podRequest).toBe(row.request);
    if (row.limit) expect(podLimit).toBe(row.limit);
  });

  it('names the default limit, and how to go past it, when a request alone is above it', () => {
    const request = operation({ resources: { requests: { memory: '1Gi' } } });
    expect(() => checkOperation(request, { ...policy, defaultLimits: { memory: '512Mi' } })).toThrow(
      "resources: the memory request 1Gi is above this worker's default memory limit 512Mi (KUBE_WORKER_SCRIPT_LIMITS_MEMORY); set resources.limits.memory too, at or above the request.",
    );
    expect(() =>
      checkOperation(operation({ resources: { requests: { memory: '1Gi' }, limits: { memory: '1Gi' } } }), { ...policy, defaultLimits: { memory: '512Mi' } }),
    ).not.toThrow();
  });

  it('refuses a CPU request or limit above the maximum, naming the setting', () => {
    const maxPolicy = { ...policy, maxResources: { cpu: '2' } };
    expect(refusalWith(operation({ resources: { limits: { cpu: '2500m' } } }), maxPolicy)).toMatchObject({
      code: 'KW_ERR_RESOURCES_EXCEED_MAXIMUM',
      message: expect.stringContaining('KUBE_WORKER_SCRIPT_MAX_CPU'),
    });
    expect(refusalWith(operation({ resources: { requests: { cpu: '3' } } }), maxPolicy)).toMatchObject({ code: 'KW_ERR_RESOURCES_EXCEED_MAXIMUM' });
    expect(() => checkOperation(operation({ resources: { requests: { cpu: '2' }, limits: { cpu: '2' } } }), maxPolicy)).not.toThrow();
  });
});

function refusalWith(request: OperationRequest, withPolicy: Parameters<typeof checkOperation>[1]): KubeWorkerError | undefined {
  try {
    checkOperation(request, withPolicy);
  } catch (error) {
    return error as KubeWorkerError;
  }
  return undefined;
}
