import { describe, expect, it } from 'vitest';
import type { OperationRequest } from '../../core/contract/operation.js';
import { KubeWorkerError } from '../../core/errors.js';
import { checkOperation, secretBytes, type OperationPolicy } from '../../core/operation-rules.js';
import { parseSource, type PackageSource } from '../../core/package-sources.js';

const SHA = 'ab'.repeat(32);
const policy: OperationPolicy = { pools: ['default'], packageSources: [parseSource('https://feed.example.com/packages/') as PackageSource] };
const withPackages = (packages: unknown[]): OperationRequest => ({
  pool: 'default',
  script: { syntax: 'bash', body: 'true' },
  packages: packages as OperationRequest['packages'],
});
const refusal = (request: OperationRequest, p: OperationPolicy = policy): KubeWorkerError => {
  try {
    checkOperation(request, p);
  } catch (error) {
    return error as KubeWorkerError;
  }
  throw new Error('accepted');
};

describe('packages at submit time', () => {
  it('accepts a package under an allowed source', () => {
    expect(() => checkOperation(withPackages([{ name: 'app', url: 'https://feed.example.com/packages/app.tar.gz', sha256: SHA }]), policy)).not.toThrow();
  });

  it('with no source allowed, refuses any package with 422 saying how to allow one', () => {
    const error = refusal(withPackages([{ name: 'app', url: 'https://feed.example.com/packages/app.tar.gz', sha256: SHA }]), { pools: ['default'] });
    expect(error).toMatchObject({ code: 'KW_ERR_PACKAGE_SOURCE_NOT_ALLOWED', status: 422 });
    expect(error.message).toContain('KUBE_WORKER_PACKAGE_SOURCES');
    expect(error.message).toContain('packages.sources');
  });

  it.each([
    ['a URL outside the sources', { url: 'https://elsewhere.example.com/app.tar.gz' }, 'KW_ERR_PACKAGE_SOURCE_NOT_ALLOWED', /is not under any package source/],
    ['a user and password in the URL', { url: 'https://u:p@feed.example.com/packages/app.tar.gz' }, 'KW_ERR_INVALID_PACKAGE', /carries a user or password/],
    ['a link-local address', { url: 'http://169.254.169.254/latest/' }, 'KW_ERR_INVALID_PACKAGE', /link-local/],
    ['no sha256', { sha256: undefined }, 'KW_ERR_INVALID_PACKAGE', /sha256 is missing/],
    ['a Host header', { headers: { Host: { value: 'other' } } }, 'KW_ERR_INVALID_PACKAGE', /header Host is set by the download itself/],
    ['a line break in a header', { headers: { 'X-Key': { value: 'a\r\nInjected: 1', sensitive: true } } }, 'KW_ERR_INVALID_PACKAGE', /line break/],
  ])('refuses %s', (_what, change, code, message) => {
    const error = refusal(withPackages([{ name: 'app', url: 'https://feed.example.com/packages/app.tar.gz', sha256: SHA, ...change }]));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it("never quotes a header value or the URL's query back", () => {
    const error = refusal(
      withPackages([
        { name: 'app', url: 'https://elsewhere.example.com/app.tar.gz?token=s3cr3t', sha256: SHA, headers: { 'X-Key': { value: 'v\nalue-s3cr3t' } } },
      ]),
    );
    expect(error.message).not.toContain('s3cr3t');
  });

  it('refuses two packages whose names make the same variable', () => {
    const url = 'https://feed.example.com/packages/app.tar.gz';
    expect(
      refusal(
        withPackages([
          { name: 'my-app', url, sha256: SHA },
          { name: 'my_app', url, sha256: SHA },
        ]),
      ).message,
    ).toMatch(/both become KUBE_WORKER_PACKAGE_MY_APP/);
  });

  it('still refuses Docker packages as needing Docker', () => {
    expect(refusal(withPackages([{ type: 'Docker', image: 'nginx:1' }])).code).toBe('KW_ERR_DOCKER_UNSUPPORTED');
  });

  it('counts packages, headers and all, against the Secret', () => {
    const bare = secretBytes(withPackages([]));
    const header = 'k'.repeat(5000);
    expect(
      secretBytes(withPackages([{ name: 'app', url: 'https://feed.example.com/packages/app.tar.gz', sha256: SHA, headers: { 'X-Key': { value: header } } }])),
    ).toBeGreaterThan(bare + 5000);
  });
});
