import { describe, expect, it } from 'vitest';
import { MASK, Masker } from '../../executor/output/masker.js';

describe('Masker', () => {
  it.each<[string, string[], string, string]>([
    ['nothing when no value is sensitive', [], 'password=hunter2', 'password=hunter2'],
    ['a value', ['hunter2'], 'password=hunter2', `password=${MASK}`],
    ['every occurrence of a value', ['s3cret'], 's3cret and s3cret again, s3crets3cret', `${MASK} and ${MASK} again, ${MASK}${MASK}`],
    ['several values', ['alpha1', 'beta22'], 'a=alpha1 b=beta22', `a=${MASK} b=${MASK}`],
    ['a longer value whole when a shorter one is inside it', ['pass', 'password1'], 'x password1 pass', `x ${MASK} ${MASK}`],
    ['a longer value whole whatever the order added', ['password1', 'pass'], 'x password1 pass', `x ${MASK} ${MASK}`],
    ['each line of a multi-line value', ['line-one\nline-two'], 'got line-two', `got ${MASK}`],
    ['each line of a CRLF multi-line value', ['first-part\r\nsecond-part'], 'first-part', MASK],
    ['a multi-line value that arrives whole', ['ab12\ncd34'], 'ab12\ncd34', MASK],
    ['a value without its surrounding whitespace', ['  padded-secret \n'], 'padded-secret!', `${MASK}!`],
    ['regex characters literally', ['a.b*c$'], 'a.b*c$ axbbc', `${MASK} axbbc`],
    ['nothing for empty and blank values', ['', '   ', '\n\n'], 'a b  c', 'a b  c'],
  ])('masks %s', (_case, values, line, expected) => {
    expect(new Masker(values).mask(line)).toBe(expected);
  });

  it('masks values added after construction', () => {
    const masker = new Masker(['first-secret']);
    masker.add('second-secret');
    masker.add('first-secret');
    expect(masker.mask('first-secret second-secret')).toBe(`${MASK} ${MASK}`);
  });

  it('masks a value that contains a value added earlier whole', () => {
    const masker = new Masker();
    masker.add('key');
    masker.add('monkey-key');
    expect(masker.mask('monkey-key key')).toBe(`${MASK} ${MASK}`);
  });

  it('masks the lines of a multi-line value, but not its lines with no letter or digit', () => {
    const file = '{\n  "password": "hunter2",\n  "hosts": [\n    "db1"\n  ],\n}\n';
    const masker = new Masker([file]);
    expect(masker.mask('  "password": "hunter2",')).toBe(`  ${MASK}`);
    expect(masker.mask('{ "ok": [1, 2] },')).toBe('{ "ok": [1, 2] },');
  });

  it('masks a value containing NUL', () => {
    expect(new Masker(['ab\0cd']).mask('x ab\0cd y')).toBe(`x ${MASK} y`);
  });

  it.each<[string, string[], string, string]>([
    ['a value the line stops in the middle of', ['hunter2'], 'password=hunt', `password=${MASK}`],
    ['whole values as usual', ['hunter2'], 'hunter2 and hunter2', `${MASK} and ${MASK}`],
    ['the longest beginning of any value', ['abcdef', 'cdxyz'], 'xx abcd', `xx ${MASK}`],
    ['nothing when the end begins no value', ['hunter2'], 'password=', 'password='],
  ])('masks in a cut line %s', (_case, values, line, expected) => {
    expect(new Masker(values).maskCut(line)).toBe(expected);
  });
});
