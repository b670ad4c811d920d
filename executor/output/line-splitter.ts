/**
 * Turns a byte stream into lines: UTF-8 safe across chunk boundaries, `\r\n` and `\n` both end a
 * line, and an unterminated last line is delivered at the end.
 *
 * Each byte is looked at once: a partial line is kept as a list of chunks and joined only when its
 * newline arrives, and never beyond `maxLineBytes` — the rest of an over-long line is counted, not
 * kept, so a script that prints gigabytes without a newline costs no more memory than one line.
 */

/** Bytes of one log line; beyond this a line is cut and the cut is reported. */
export const MAX_LINE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** `droppedBytes`: how many bytes of the line were cut off past the cap (0 for a whole line). */
export type OnLine = (line: string, droppedBytes: number) => void;

/** The longest prefix of `bytes` that ends on a character boundary of UTF-8. */
function wholeCharacters(bytes: Buffer): Buffer {
  let end = bytes.length;
  // Step back over continuation bytes (10xxxxxx) to the lead byte of the last character...
  let lead = end - 1;
  while (lead >= 0 && lead > end - 4 && (bytes[lead]! & 0xc0) === 0x80) lead -= 1;
  if (lead < 0) return bytes;
  const first = bytes[lead]!;
  const size = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  // ...and drop that character if it does not fit whole.
  if (lead + size > end) end = lead;
  return bytes.subarray(0, end);
}

export class LineSplitter {
  private parts: Buffer[] = [];
  private kept = 0;
  private dropped = 0;
  private lastDropped = 0;

  constructor(
    private readonly onLine: OnLine,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  write(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline >= 0; newline = chunk.indexOf(NEWLINE, start)) {
      this.keep(chunk.subarray(start, newline));
      this.deliver();
      start = newline + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  end(): void {
    if (this.kept > 0 || this.dropped > 0) this.deliver();
  }

  /** Keeps what fits under the cap; one byte more is kept so that a `\r` just past it can still end the line. */
  private keep(bytes: Buffer): void {
    const room = this.maxLineBytes + 1 - this.kept;
    if (bytes.length <= room) {
      if (bytes.length > 0) this.parts.push(bytes);
      this.kept += bytes.length;
      return;
    }
    if (room > 0) this.parts.push(bytes.subarray(0, room));
    this.kept += Math.max(room, 0);
    this.dropped += bytes.length - Math.max(room, 0);
    this.lastDropped = bytes[bytes.length - 1]!;
  }

  private deliver(): void {
    let line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.kept);
    let dropped = this.dropped;
    this.parts = [];
    this.kept = 0;
    this.dropped = 0;
    // A line ending "\r\n" (or a last line ending "\r") loses its "\r".
    if (dropped > 0 && this.lastDropped === CARRIAGE_RETURN) dropped -= 1;
    else if (dropped === 0 && line[line.length - 1] === CARRIAGE_RETURN) line = line.subarray(0, -1);
    if (line.length > this.maxLineBytes) {
      const cut = wholeCharacters(line.subarray(0, this.maxLineBytes));
      dropped += line.length - cut.length;
      line = cut;
    }
    this.onLine(line.toString('utf8'), dropped);
  }
}
