import { describe, expect, it } from 'vitest';
import { KubeWorkerError } from '../../core/errors.js';
import { charsetOf, keyProblem, readJsonBody } from '../../dispatcher/json-body.js';

function refusal(body: string | Buffer, contentType = 'application/json'): KubeWorkerError {
  try {
    readJsonBody(Buffer.isBuffer(body) ? body : Buffer.from(body), contentType);
  } catch (error) {
    expect(error).toBeInstanceOf(KubeWorkerError);
    return error as KubeWorkerError;
  }
  throw new Error('the body was accepted');
}

describe('readJsonBody', () => {
  it.each<[string, string | undefined]>([
    ['application/json', undefined],
    ['application/json; charset=UTF-8', 'utf-8'],
    ['application/json;charset="utf-16"', 'utf-16'],
    ['application/json; foo=bar; Charset=latin1', 'latin1'],
  ])('reads the charset of %s', (contentType, charset) => {
    expect(charsetOf(contentType)).toBe(charset);
  });

  it.each(['application/json; charset=utf-16', 'application/json; charset=iso-8859-1'])('refuses %s with 415', (contentType) => {
    const error = refusal('{}', contentType);
    expect(error.status).toBe(415);
    expect(error.code).toBe('KW_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it.each<[string, Buffer]>([
    ['a lone continuation byte', Buffer.from([0x7b, 0x80, 0x7d])],
    ['an overlong encoding', Buffer.from([0x22, 0xc0, 0xaf, 0x22])],
    ['a truncated sequence', Buffer.from([0x22, 0xe2, 0x82, 0x22])],
  ])('refuses %s as invalid UTF-8', (_case, bytes) => {
    expect(refusal(bytes).message).toBe('the body is not valid UTF-8; JSON must be sent as UTF-8');
  });

  it('reads UTF-8 text as it is, a BOM aside', () => {
    expect(readJsonBody(Buffer.from('\ufeff{"a":"ünï ✓"}'), 'application/json; charset=utf-8')).toEqual({ a: 'ünï ✓' });
  });

  it('says the body is empty or not JSON', () => {
    expect(refusal('  ').message).toBe('the body is empty; send the operation as JSON');
    expect(refusal('{"a":').message).toMatch(/^the body is not valid JSON/);
  });

  it('keeps constructor and prototype keys as plain data, polluting nothing', () => {
    const value = readJsonBody(Buffer.from('{"constructor":{"prototype":{"polluted":true}},"prototype":1}'), 'application/json') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['constructor', 'prototype']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('keyProblem', () => {
  it.each<[string, string]>([
    ['{"a":1,"a":2}', 'body: the key "a" is given twice'],
    ['{"a":{"b":1,"c":{"d":1,"d":1}}}', 'body.a.c: the key "d" is given twice'],
    ['[{"a":1},{"a":1,"a":1}]', 'body[1]: the key "a" is given twice'],
    ['{"x":[[1,{"k":1,"k":1}]]}', 'body.x[0][1]: the key "k" is given twice'],
    ['{"a\\u0062":1,"ab":2}', 'body: the key "ab" is given twice'],
    ['{"__proto__":1}', 'body: "__proto__" cannot be a key'],
    ['{"v":{"__pro\\u0074o__":{}}}', 'body.v: "__proto__" cannot be a key'],
  ])('finds the problem in %s', (text, problem) => {
    expect(keyProblem(text)).toContain(problem);
  });

  it.each([
    '{"a":1,"b":{"a":1},"c":[{"a":1},{"a":1}]}',
    '{"a":"\\"a\\":1, {\\"a\\"","b":"}{]["}',
    '{"a\\\\":1,"a":2}',
    '{"constructor":{"prototype":1},"__proto":2,"proto__":3}',
    '[1,"a",{"a":[]},{}]',
    '"just a string"',
  ])('finds nothing wrong with %s', (text) => {
    JSON.parse(text);
    expect(keyProblem(text)).toBeUndefined();
  });
});
