import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../executor/output/line-splitter.js';

function split(chunks: (string | Buffer)[], end = true): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  for (const chunk of chunks) splitter.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  if (end) splitter.end();
  return lines;
}

const EURO = Buffer.from('€', 'utf8'); // e2 82 ac
const EMOJI = Buffer.from('😀', 'utf8'); // four bytes

describe('LineSplitter', () => {
  it.each<[string, (string | Buffer)[], string[]]>([
    ['one line', ['hello\n'], ['hello']],
    ['several lines in one chunk', ['a\nb\nc\n'], ['a', 'b', 'c']],
    ['a line split across chunks', ['hel', 'lo\nwor', 'ld\n'], ['hello', 'world']],
    ['CRLF endings', ['a\r\nb\r\n'], ['a', 'b']],
    ['a CRLF split between chunks', ['a\r', '\nb\n'], ['a', 'b']],
    ['a carriage return inside a line', ['50%\r100%\n'], ['50%\r100%']],
    ['empty lines', ['a\n\n\nb\n'], ['a', '', '', 'b']],
    ['a first empty line', ['\nx\n'], ['', 'x']],
    ['an unterminated last line', ['a\nlast'], ['a', 'last']],
    ['an unterminated last line ending in CR', ['a\nlast\r'], ['a', 'last']],
    ['nothing for no input', [], []],
    ['nothing for empty chunks', ['', ''], []],
    ['a three-byte character split across chunks', [Buffer.concat([Buffer.from('price '), EURO.subarray(0, 1)]), EURO.subarray(1, 2), Buffer.concat([EURO.subarray(2), Buffer.from('5\n')])], ['price €5']],
    ['a four-byte character split before a newline', [EMOJI.subarray(0, 3), Buffer.concat([EMOJI.subarray(3), Buffer.from('\n')])], ['😀']],
    ['a multi-byte character split in an unterminated line', [Buffer.from('ü'.repeat(3)).subarray(0, 3), Buffer.from('ü'.repeat(3)).subarray(3)], ['üüü']],
    ['a truncated character at the end as a replacement character', [Buffer.concat([Buffer.from('x'), EURO.subarray(0, 2)])], ['x\ufffd']],
  ])('delivers %s', (_case, chunks, expected) => {
    expect(split(chunks)).toEqual(expected);
  });

  it('holds an unterminated line until end()', () => {
    expect(split(['a\npartial'], false)).toEqual(['a']);
  });

  it('delivers each line as soon as its newline arrives', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.write(Buffer.from('one\ntw'));
    expect(lines).toEqual(['one']);
    splitter.write(Buffer.from('o\n'));
    expect(lines).toEqual(['one', 'two']);
    splitter.end();
    expect(lines).toEqual(['one', 'two']);
  });
});
