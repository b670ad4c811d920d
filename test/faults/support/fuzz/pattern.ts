/**
 * Strings that match a regular expression of the simple kind OpenAPI documents use: anchors,
 * character classes with ranges, literal characters, and the quantifiers ?, *, +, {n} and {m,n}.
 */
import type { Random } from './random.js';

interface Atom {
  chars: string[];
  min: number;
  max: number;
}

function expand(set: string): string[] {
  const chars: string[] = [];
  for (let i = 0; i < set.length; i += 1) {
    let c = set[i]!;
    if (c === '\\') c = set[++i]!;
    if (set[i + 1] === '-' && i + 2 < set.length) {
      const end = set[i + 2]!;
      for (let code = c.charCodeAt(0); code <= end.charCodeAt(0); code += 1) chars.push(String.fromCharCode(code));
      i += 2;
    } else {
      chars.push(c);
    }
  }
  return chars;
}

function parse(pattern: string): Atom[] {
  const atoms: Atom[] = [];
  const source = pattern.replace(/^\^/, '').replace(/\$$/, '');
  for (let i = 0; i < source.length;) {
    let chars: string[];
    if (source[i] === '[') {
      const end = source.indexOf(']', i + 1);
      if (end < 0 || source[i + 1] === '^') throw new Error(`pattern ${pattern}: only plain character classes are supported`);
      chars = expand(source.slice(i + 1, end));
      i = end + 1;
    } else if (source[i] === '\\') {
      chars = [source[i + 1]!];
      i += 2;
    } else if ('()|.'.includes(source[i]!)) {
      throw new Error(`pattern ${pattern}: groups, alternatives and . are not supported`);
    } else {
      chars = [source[i]!];
      i += 1;
    }
    let min = 1;
    let max = 1;
    const quantifier = /^(?:\{(\d+)(?:,(\d*))?\}|([?*+]))/.exec(source.slice(i));
    if (quantifier) {
      i += quantifier[0].length;
      if (quantifier[3] === '?') [min, max] = [0, 1];
      else if (quantifier[3] === '*') [min, max] = [0, 16];
      else if (quantifier[3] === '+') [min, max] = [1, 16];
      else {
        min = Number(quantifier[1]);
        max = quantifier[2] === undefined ? min : quantifier[2] === '' ? min + 16 : Number(quantifier[2]);
      }
    }
    atoms.push({ chars, min, max });
  }
  return atoms;
}

/** A string matching `pattern`; lengths lean short, with the longest allowed now and then. */
export function matching(pattern: string, random: Random): string {
  let text = '';
  for (const atom of parse(pattern)) {
    const count = random.chance(0.1) ? atom.max : random.int(atom.min, Math.min(atom.max, atom.min + 12));
    for (let i = 0; i < count; i += 1) text += random.pick(atom.chars);
  }
  return text;
}
