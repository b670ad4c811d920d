/**
 * Replaces every sensitive value in a line with a mask. A multi-line value is also masked line by
 * line, since output reaches the log one line at a time. Longer values go first so that a value
 * containing another is masked whole.
 */
export const MASK = '********';

export class Masker {
  private values: string[] = [];

  constructor(values: Iterable<string> = []) {
    for (const value of values) this.add(value);
  }

  add(value: string): void {
    const candidates = [value, ...value.split(/\r?\n/)].map((v) => v.trim()).filter((v) => v.length > 0);
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
}
