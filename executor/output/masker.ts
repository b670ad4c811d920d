/**
 * Replaces every sensitive value in a line with a mask. A multi-line value is also masked line by
 * line, since output reaches the log one line at a time; a line of it with no letter or digit
 * (`{`, `],` of a JSON file) holds no secret and would mask those characters everywhere, so it is
 * left out. Longer values go first so that a value containing another is masked whole.
 */
export const MASK = '********';

const HOLDS_A_SECRET = /[\p{L}\p{N}]/u;

export class Masker {
  private values: string[] = [];

  constructor(values: Iterable<string> = []) {
    for (const value of values) this.add(value);
  }

  add(value: string): void {
    const lines = value
      .split(/\r?\n/)
      .map((v) => v.trim())
      .filter((v) => HOLDS_A_SECRET.test(v));
    const candidates = [value.trim(), ...lines].filter((v) => v.length > 0);
    let changed = false;
    for (const candidate of candidates) {
      if (!this.values.includes(candidate)) {
        this.values.push(candidate);
        changed = true;
      }
    }
    if (changed) this.values.sort((a, b) => b.length - a.length);
  }

  mask(line: string): string {
    let masked = line;
    for (const value of this.values) {
      if (masked.includes(value)) masked = masked.split(value).join(MASK);
    }
    return masked;
  }

  /** Masks a line that was cut short: a value it stops in the middle of is masked too. */
  maskCut(line: string): string {
    const masked = this.mask(line);
    let tail = masked.length;
    for (const value of this.values) {
      // The earliest start of a suffix of the line that begins the value.
      const from = Math.max(0, masked.length - value.length + 1);
      for (let at = masked.indexOf(value[0]!, from); at >= 0 && at < tail; at = masked.indexOf(value[0]!, at + 1)) {
        if (value.startsWith(masked.slice(at))) {
          tail = at;
          break;
        }
      }
    }
    return tail === masked.length ? masked : masked.slice(0, tail) + MASK;
  }
}
