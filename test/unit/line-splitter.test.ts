import { afterEach, describe, expect, it, vi } from 'vitest';
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
    [
      'a three-byte character split across chunks',
      [Buffer.concat([Buffer.from('price '), EURO.subarray(0, 1)]), EURO.subarray(1, 2), Buffer.concat([EURO.subarray(2), Buffer.from('5\n')])],
      ['price €5'],
    ],
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

  describe('an over-long line', () => {
    const cut = (chunks: (string | Buffer)[], maxLineBytes: number): [string, number][] => {
      const lines: [string, number][] = [];
      const splitter = new LineSplitter((line, droppedBytes) => lines.push([line, droppedBytes]), maxLineBytes);
      for (const chunk of chunks) splitter.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      splitter.end();
      return lines;
    };

    it.each<[string, (string | Buffer)[], [string, number][]]>([
      [
        'is kept up to the cap and the rest counted',
        ['abcdefghij\nok\n'],
        [
          ['abcd', 6],
          ['ok', 0],
        ],
      ],
      ['is cut across chunks', ['ab', 'cdef', 'gh\n'], [['abcd', 4]]],
      ['is cut when unterminated', ['abcdefg'], [['abcd', 3]]],
      ['at exactly the cap is whole', ['abcd\n'], [['abcd', 0]]],
      ['ending in CRLF at the cap is whole', ['abcd\r\n'], [['abcd', 0]]],
      ['is cut before a character that does not fit', ['ab€€\n'], [['ab', 6]]],
    ])('%s', (_case, chunks, expected) => {
      expect(cut(chunks, 4)).toEqual(expected);
    });
  });

  describe('work', () => {
    afterEach(() => vi.restoreAllMocks());

    // Counts the bytes that the primitives a splitter can use to scan, join or decode text are
    // applied to: a splitter that goes over a partial line again for each chunk does work that
    // grows with the square of the line's length.
    function bytesTouched(chunks: number, chunkBytes: number, newlineEvery: number): number {
      let touched = 0;
      const count = <T extends object>(target: T, name: keyof T, size: (self: any, args: any[], result: any) => number): void => {
        const original = target[name] as (...args: unknown[]) => unknown;
        vi.spyOn(target as any, name as any).mockImplementation(function (this: unknown, ...args: unknown[]) {
          const result = original.apply(this, args);
          touched += size(this, args, result);
          return result;
        });
      };
      count(String.prototype, 'split', (self) => self.length);
      count(String.prototype, 'indexOf', (self) => self.length);
      count(String.prototype, 'concat', (_self, _args, result) => result.length);
      count(Buffer.prototype, 'indexOf', (self) => self.length);
      count(Buffer.prototype, 'toString', (self) => self.length);
      count(Buffer, 'concat', (_self, _args, result) => result.length);
      const splitter = new LineSplitter(() => undefined);
      const chunk = Buffer.alloc(chunkBytes, 'x');
      for (let i = 0; i < chunks; i += 1) splitter.write(i % newlineEvery === newlineEvery - 1 ? Buffer.from('\n') : chunk);
      splitter.end();
      vi.restoreAllMocks();
      return touched;
    }

    it('grows linearly with the output, also when a line never ends', () => {
      const input = 400 * 1024;
      expect(bytesTouched(400, 1024, Number.MAX_SAFE_INTEGER)).toBeLessThan(4 * input);
      expect(bytesTouched(400, 1024, 50)).toBeLessThan(4 * input);
    });
  });
});
