import { describe, expect, it } from 'vitest';
import type { OperationRequest } from '../../core/contract/operation.js';
import { KubeWorkerError, type ErrorCode } from '../../core/errors.js';
import { MAX_PAYLOAD_BYTES, checkOperation, payloadBytes } from '../../core/operation-rules.js';

const policy = { pools: ['default', 'gpu'] };

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
        packages: [{ type: 'NuGet', id: 'Acme.Web' }],
        requires: [],
      }),
    ],
    ['a request equal to its limit', operation({ resources: { requests: { cpu: '1' }, limits: { cpu: '1000m' } } })],
    ['a payload of exactly 1 MiB', operation({ script: { syntax: 'bash', body: 'x'.repeat(MAX_PAYLOAD_BYTES) } })],
  ])('accepts %s', (_case, request) => {
    expect(() => checkOperation(request, policy)).not.toThrow();
  });

  it.each<[string, OperationRequest, ErrorCode, string]>([
    ['a script over 1 MiB', operation({ script: { syntax: 'bash', body: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) } }), 'KW_ERR_TOO_LARGE', 'script, files and variables'],
    ['files that add up to more than 1 MiB', operation({ files: [{ name: 'big.bin', content: 'A'.repeat(1_400_000) }] }), 'KW_ERR_TOO_LARGE', 'script, files and variables'],
    ['variables that add up to more than 1 MiB', operation({ variables: { BIG: { value: 'v'.repeat(MAX_PAYLOAD_BYTES) } } }), 'KW_ERR_TOO_LARGE', 'script, files and variables'],
    ['a pool this worker does not serve', operation({ pool: 'windows' }), 'KW_ERR_UNKNOWN_POOL', 'pool: "windows"'],
    ['a docker package', operation({ packages: [{ type: 'docker', image: 'nginx:1' }] }), 'KW_ERR_DOCKER_UNSUPPORTED', 'packages: "nginx:1"'],
    ['a Docker package in another case', operation({ packages: [{ type: 'Docker', id: 'redis' }] }), 'KW_ERR_DOCKER_UNSUPPORTED', 'packages: "redis"'],
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
    ['a cpu request above its limit', operation({ resources: { requests: { cpu: '2' }, limits: { cpu: '1500m' } } }), 'KW_ERR_INVALID_QUANTITY', 'resources: the cpu request 2'],
    ['a memory request above its limit', operation({ resources: { requests: { memory: '1Gi' }, limits: { memory: '1000Mi' } } }), 'KW_ERR_INVALID_QUANTITY', 'resources: the memory request 1Gi'],
    ['a file that climbs out of the workspace', operation({ files: [{ name: '../x', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "../x"'],
    ['a file with an absolute path', operation({ files: [{ name: '/etc/passwd', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "/etc/passwd"'],
    ['a file that climbs out after normalisation', operation({ files: [{ name: 'a/../../b', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "a/../../b"'],
    ['a file that names the workspace itself', operation({ files: [{ name: 'a/..', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "a/.."'],
    ['a file name ending in a slash', operation({ files: [{ name: 'dir/', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "dir/"'],
    ['a file name with a backslash', operation({ files: [{ name: 'a\\b', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "a\\b"'],
    ['a file name with a NUL byte', operation({ files: [{ name: 'a\0b', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files:'],
    ['the same file twice', operation({ files: [{ name: 'a.txt', content: '' }, { name: 'a.txt', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "a.txt" is given twice'],
    ['the same file twice under another spelling', operation({ files: [{ name: 'a/b', content: '' }, { name: './a//b', content: '' }] }), 'KW_ERR_INVALID_FILE', 'files: "./a//b" is given twice'],
    ['file content that is not base64', operation({ files: [{ name: 'a.txt', content: 'not base64!' }] }), 'KW_ERR_INVALID_FILE', 'files: the content of "a.txt"'],
    ['base64 content of a wrong length', operation({ files: [{ name: 'a.txt', content: 'YWJ' }] }), 'KW_ERR_INVALID_FILE', 'files: the content of "a.txt"'],
    ['base64 content with padding in the middle', operation({ files: [{ name: 'a.txt', content: 'YQ==YQ==' }] }), 'KW_ERR_INVALID_FILE', 'files: the content of "a.txt"'],
  ])('refuses %s with %s', (_case, request, code, field) => {
    const error = refusal(request);
    expect(error.code).toBe(code);
    expect(error.message).toContain(field);
  });

  it('reports the payload size before the pool', () => {
    const error = refusal(operation({ pool: 'windows', script: { syntax: 'bash', body: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) } }));
    expect(error.code).toBe('KW_ERR_TOO_LARGE');
    expect(error.message).toContain(String(MAX_PAYLOAD_BYTES + 1));
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

describe('payloadBytes', () => {
  it.each<[string, OperationRequest, number]>([
    ['an ASCII script', operation({ script: { syntax: 'sh', body: 'echo' } }), 4],
    ['a multi-byte script in UTF-8 bytes', operation({ script: { syntax: 'sh', body: 'é€' } }), 5],
    ['a file as name plus decoded content', operation({ script: { syntax: 'sh', body: '' }, files: [{ name: 'ab', content: 'YWJj' }] }), 2 + 3],
    ['variables as names plus values', operation({ script: { syntax: 'sh', body: '' }, variables: { A: { value: 'xyz' }, BC: { value: '' } } }), 1 + 3 + 2],
    ['arguments', operation({ script: { syntax: 'sh', body: '' }, arguments: ['-v', 'ü'] }), 2 + 2],
    [
      'everything together',
      operation({ script: { syntax: 'sh', body: 'run' }, files: [{ name: 'f', content: 'AAAAAAAA' }], variables: { V: { value: 'v' } }, arguments: ['a'] }),
      3 + 1 + 6 + 2 + 1,
    ],
  ])('counts %s', (_case, request, expected) => {
    expect(payloadBytes(request)).toBe(expected);
  });
});
