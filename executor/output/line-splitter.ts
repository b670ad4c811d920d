/**
 * Turns a byte stream into lines: UTF-8 safe across chunk boundaries, `\r\n` and `\n` both end a
 * line, and an unterminated last line is delivered at the end.
 */
import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: Buffer): void {
    const text = this.rest + this.decoder.write(chunk);
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  end(): void {
    const last = this.rest + this.decoder.end();
    this.rest = '';
    if (last.length > 0) this.onLine(last.endsWith('\r') ? last.slice(0, -1) : last);
  }
}
