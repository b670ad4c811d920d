import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const build = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8'));

describe('the package', () => {
  it('exports the API client as kube-worker/client, built with its types from client/index.ts', () => {
    expect(pkg.exports['./client']).toEqual({ types: './dist/client/index.d.ts', default: './dist/client/index.js' });
    expect(existsSync(path.join(ROOT, 'client/index.ts'))).toBe(true);
    expect(build.include).toContain('client');
    expect(build.compilerOptions.declaration).toBe(true);
  });

  it('publishes the OpenAPI document, and keeps the command', () => {
    expect(pkg.exports['./openapi.json']).toBe('./docs/openapi.json');
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'docs/openapi.json']));
    expect(pkg.bin).toEqual({ 'kube-worker': 'dist/cli/main.js' });
  });
});
