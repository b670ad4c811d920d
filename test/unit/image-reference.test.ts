import { describe, expect, it } from 'vitest';
import { imageReferenceProblem } from '../../core/image-reference.js';

const DIGEST = `sha256:${'a1'.repeat(32)}`;

describe('imageReferenceProblem', () => {
  it.each([
    ['nginx'],
    ['nginx:1'],
    ['nginx:1.25-alpine'],
    ['library/nginx:latest'],
    ['ghcr.io/acme/tools:1.2'],
    [`localhost:5000/a/b@${DIGEST}`],
    [`nginx:1@${DIGEST}`],
    ['registry.invalid/x:1'],
    ['my-registry.example.com:443/team/app_name:v2'],
    ['a/b__c/d-e.f:TAG_1'],
  ])('accepts %s', (reference) => {
    expect(imageReferenceProblem(reference)).toBeUndefined();
  });

  it.each([
    ['Nginx', 'lowercase repository'],
    ['ghcr.io/Acme/tools', 'lowercase repository'],
    ['nginx latest', 'whitespace'],
    [' nginx', 'whitespace'],
    ['nginx\t', 'whitespace'],
    ['https://ghcr.io/a', 'URL'],
    ['nginx:', '[registry/]repository[:tag][@digest]'],
    ['a//b', '[registry/]repository[:tag][@digest]'],
    ['', '[registry/]repository[:tag][@digest]'],
    ['nginx@sha256:abc', '[registry/]repository[:tag][@digest]'],
    ['nginx:-1', '[registry/]repository[:tag][@digest]'],
    [`nginx:${'t'.repeat(129)}`, '[registry/]repository[:tag][@digest]'],
    ['-nginx', '[registry/]repository[:tag][@digest]'],
    ['nginx/', '[registry/]repository[:tag][@digest]'],
    [`${'a'.repeat(256)}:1`, 'longer than 255 characters'],
  ])('refuses %j because %s', (reference, why) => {
    expect(imageReferenceProblem(reference)).toContain(why);
  });
});
