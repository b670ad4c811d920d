import { describe, expect, it } from 'vitest';
import { addressKind, addressProblem, checkPackageUrl, parseSource, type PackageSource } from '../../core/package-sources.js';
import { packageFormat, packageVariable, urlFileName } from '../../core/package-layout.js';

const sources = ['https://feed.example.com/packages/', 'http://127.0.0.1:8081/'].map((text) => parseSource(text) as PackageSource);

describe('package sources', () => {
  it.each([
    ['ftp://feed.example.com/', 'must be an http or https URL'],
    ['https://user:pw@feed.example.com/', 'must not carry a user or password'],
    ['https://feed.example.com/?token=x', 'without ? or #'],
    ['feed.example.com', 'is not a URL'],
  ])('refuses %s as a source', (text, problem) => {
    expect(parseSource(text)).toEqual(expect.stringContaining(problem));
  });

  it.each([
    ['https://feed.example.com/packages/app-1.2.tar.gz', 'https://feed.example.com/packages/'],
    ['https://FEED.example.com:443/packages/a/b.zip?sig=1', 'https://feed.example.com/packages/'],
    ['http://127.0.0.1:8081/files/x.zip', 'http://127.0.0.1:8081/'],
  ])('allows %s under %s', (url, source) => {
    expect(checkPackageUrl(url, sources)).toEqual({ source: expect.objectContaining({ text: source }) });
  });

  it.each([
    ['https://feed.example.com/other/app.tar.gz', 'is not under any package source'],
    ['https://feed.example.com.evil.test/packages/app.tar.gz', 'is not under any package source'],
    ['http://feed.example.com/packages/app.tar.gz', 'is not under any package source'],
    ['https://feed.example.com:8443/packages/app.tar.gz', 'is not under any package source'],
    ['https://me:secret@feed.example.com/packages/app.tar.gz', 'carries a user or password'],
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://[fe80::1]/x', 'link-local'],
    ['http://127.0.0.1:9999/x', 'is not under any package source'],
    ['file:///etc/passwd', 'must be an http or https URL'],
  ])('refuses %s', (url, problem) => {
    expect(checkPackageUrl(url, sources)).toEqual({ problem: expect.stringContaining(problem) });
  });

  it('refuses a loopback address unless its source is on a loopback host', () => {
    const feed = sources[0]!;
    const local = sources[1]!;
    expect(addressProblem('127.0.0.1', feed)).toBe('a loopback address, and the source https://feed.example.com/packages/ is not on a loopback host');
    expect(addressProblem('::1', feed)).toMatch(/loopback/);
    expect(addressProblem('127.0.0.1', local)).toBeUndefined();
    expect(addressProblem('169.254.169.254', local)).toMatch(/link-local/);
    expect(addressProblem('93.184.216.34', feed)).toBeUndefined();
  });

  it.each([
    ['169.254.169.254', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['127.0.0.1', 'loopback'],
    ['127.1.2.3', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['0.0.0.0', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'other'],
    ['fec0::1', 'other'],
    ['feed.example.com', 'other'],
  ])('%s is %s', (address, kind) => {
    expect(addressKind(address)).toBe(kind);
  });
});

describe('what a package becomes in the workspace', () => {
  it.each([
    ['app', 'KUBE_WORKER_PACKAGE_APP'],
    ['my-app.v2', 'KUBE_WORKER_PACKAGE_MY_APP_V2'],
    ['9lives', 'KUBE_WORKER_PACKAGE_9LIVES'],
  ])('%s is named by %s', (name, variable) => {
    expect(packageVariable(name)).toBe(variable);
  });

  it.each([
    ['https://f/a/app.tar.gz', undefined, 'tar.gz'],
    ['https://f/a/app.TGZ', undefined, 'tar.gz'],
    ['https://f/a/app.tar', undefined, 'tar'],
    ['https://f/a/app.zip?sig=1', undefined, 'zip'],
    ['https://f/a/app.nupkg', undefined, 'none'],
    ['https://f/a/app.nupkg', 'zip', 'zip'],
    ['https://f/a/app.zip', 'none', 'none'],
  ] as const)('%s with extract %s is unpacked as %s', (url, extract, format) => {
    expect(packageFormat({ url, extract })).toBe(format);
  });

  it.each([
    ['https://f/a/app-1.0.jar', 'app-1.0.jar'],
    ['https://f/a/my%20file.txt', 'my file.txt'],
    ['https://f/a/..%2F..%2Fetc', '_.._etc'],
    ['https://f/', 'package'],
    ['https://f/a/.hidden', 'hidden'],
  ])('a package kept as a file from %s is saved as %s', (url, file) => {
    expect(urlFileName(url)).toBe(file);
  });
});
