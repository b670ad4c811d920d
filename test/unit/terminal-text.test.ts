import { describe, expect, it } from 'vitest';
import { forStream, showControls } from '../../core/terminal-text.js';

describe('showControls', () => {
  it.each<[string, string, string]>([
    ['plain text as it is', 'hello, wörld → ✓', 'hello, wörld → ✓'],
    ['a tab as a tab', 'a\tb', 'a\tb'],
    ['ESC of a colour or cursor sequence as ^[', '\x1b[1A\x1b[2K» Succeeded', '^[[1A^[[2K» Succeeded'],
    ['CR as ^M, so nothing is printed over the line', 'progress 10%\r» Succeeded', 'progress 10%^M» Succeeded'],
    ['a newline as ^J, so a line stays one line', 'one\n» Succeeded', 'one^J» Succeeded'],
    ['NUL, BEL and backspace', '\x00\x07\x08', '^@^G^H'],
    ['DEL as ^?', 'a\x7fb', 'a^?b'],
    ['a C1 control (CSI, which some terminals obey) as M-^[', 'a\x9b2Jb', 'aM-^[2Jb'],
    ['an OSC title sequence', '\x1b]0;pwned\x07', '^[]0;pwned^G'],
  ])('shows %s', (_case, text, shown) => {
    expect(showControls(text)).toBe(shown);
  });
});

describe('forStream', () => {
  it('shows controls to a terminal and leaves them to a pipe or a file', () => {
    expect(forStream({ isTTY: true }, '\x1b[31mred\r')).toBe('^[[31mred^M');
    expect(forStream({ isTTY: false }, '\x1b[31mred\r')).toBe('\x1b[31mred\r');
    expect(forStream({}, '\x1b[31mred\r')).toBe('\x1b[31mred\r');
  });
});
