import { describe, expect, it } from 'vitest';
import { formatElapsed, progressText, StatusLine } from '../../cli/status-line.js';

const CLEAR = '\r\x1b[2K';

function terminal(columns = 80): { write(text: string): void; columns: number; written: string } {
  return {
    columns,
    written: '',
    write(text: string) {
      this.written += text;
    },
  };
}

describe('the live status line', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [59_000, '59s'],
    [65_000, '1m05s'],
    [3_599_000, '59m59s'],
    [3_720_000, '1h02m'],
  ])('shows %i ms as %s', (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });

  it('says why an operation is pending, and only while it is', () => {
    expect(progressText({ ticket: 't-1', state: 'queued', elapsedMs: 2000 })).toBe('» t-1 queued (2s)');
    expect(progressText({ ticket: 't-1', state: 'pending', reason: '0/3 nodes are available: insufficient cpu', elapsedMs: 12_000 })).toBe(
      '» t-1 pending: 0/3 nodes are available: insufficient cpu (12s)',
    );
    expect(progressText({ ticket: 't-1', state: 'running', reason: 'Picked up', elapsedMs: 61_000 })).toBe('» t-1 running (1m01s)');
  });

  it('rewrites itself in place', () => {
    const out = terminal();
    const line = new StatusLine(out);
    line.show('» t-1 queued (0s)');
    line.show('» t-1 running (1s)');
    expect(out.written).toBe(`${CLEAR}» t-1 queued (0s)${CLEAR}» t-1 running (1s)`);
  });

  it('steps aside for a log line and comes back under it', () => {
    const out = terminal();
    const line = new StatusLine(out);
    line.show('» t-1 running (1s)');
    line.above(() => out.write('hello\n'));
    expect(out.written).toBe(`${CLEAR}» t-1 running (1s)${CLEAR}hello\n» t-1 running (1s)`);
  });

  it('prints log lines untouched before it is shown and after it is cleared', () => {
    const out = terminal();
    const line = new StatusLine(out);
    line.above(() => out.write('first\n'));
    line.show('status');
    line.clear();
    line.above(() => out.write('last\n'));
    expect(out.written).toBe(`first\n${CLEAR}status${CLEAR}last\n`);
  });

  it('never wraps on a narrow terminal', () => {
    const out = terminal(20);
    new StatusLine(out).show('» a-rather-long-ticket-name running (5s)');
    expect(out.written).toBe(`${CLEAR}» a-rather-long-ti…`);
    expect([...'» a-rather-long-ti…'].length).toBe(19);
  });
});
