import { describe, expect, it } from 'vitest';
import type { OperationStatus } from '../../core/contract/status.js';
import { bash, useStack } from './support/stack.js';

const MAX_LINE_BYTES = 64 * 1024;
const storedBytes = (status: OperationStatus): number => status.logs.reduce((sum, line) => sum + Buffer.byteLength(line.text), 0);

describe('output a script cannot flood the log with', () => {
  const stack = useStack({ env: { KUBE_WORKER_LOG_MAX_BYTES: String(1024 * 1024) } });

  it('40 MB without a newline is stored as one line cut to the line cap, with a line saying it was truncated', async () => {
    const ticket = await stack.submit(bash(`head -c ${40 * 1000 * 1000} /dev/zero | tr '\\0' x; echo; echo after`));
    const status = await stack.waitUntilDone(ticket, 50_000);
    expect(status.state).toBe('succeeded');
    const long = status.logs.find((l) => l.stream === 'stdout' && l.text.startsWith('xxx'))!;
    expect(Buffer.byteLength(long.text)).toBe(MAX_LINE_BYTES);
    expect(status.logs.map((l) => l.text)).toContain(
      `The line above was truncated: ${40 * 1000 * 1000 - MAX_LINE_BYTES} of its ${40 * 1000 * 1000} bytes are not stored`,
    );
    expect(status.logs.map((l) => l.text)).toContain('after');
    expect(storedBytes(status)).toBeLessThan(MAX_LINE_BYTES + 1024);
    expect(status.logs.at(-1)!.text).toBe('Succeeded');
  });

  it('keeps at most the configured bytes per operation, says how many were dropped, and still ends with the outcome', async () => {
    // 3,000 lines of 1,000 bytes: well under the line cap, three times the byte cap.
    const ticket = await stack.submit(bash(`line=$(head -c 999 /dev/zero | tr '\\0' y); for i in $(seq 1 3000); do echo "$line"; done`));
    const status = await stack.waitUntilDone(ticket, 50_000);
    expect(status.state).toBe('succeeded');
    expect(storedBytes(status)).toBeLessThanOrEqual(1024 * 1024 + 1024);
    expect(status.logs.filter((l) => l.stream === 'stdout').length).toBeGreaterThan(1000);
    expect(status.logs.at(-2)!.text).toMatch(/^\d+ log lines dropped: the limit is 1048576 bytes per operation$/);
    expect(status.logs.at(-1)!.text).toBe('Succeeded');
  });
});
