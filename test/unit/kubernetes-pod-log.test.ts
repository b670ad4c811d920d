import { describe, expect, it } from 'vitest';
import { CursorFilter, fetchLineOrigin, parsePodLogLine, resumePoint, timestampNanos, type PodLogLine } from '../../executor/kubernetes/pod-log.js';

const line = (origin: string, text = 'x'): PodLogLine => parsePodLogLine(`${origin} ${text}`)!;

describe('pod log lines', () => {
  it('splits the timestamp and tells stderr by its mark', () => {
    expect(parsePodLogLine('2026-11-28T04:00:00.123456789Z hello world')).toMatchObject({
      stream: 'stdout',
      text: 'hello world',
      origin: '2026-11-28T04:00:00.123456789Z',
    });
    expect(parsePodLogLine('2026-11-28T04:00:00Z \u001eoops')).toMatchObject({ stream: 'stderr', text: 'oops' });
    expect(parsePodLogLine('2026-11-28T04:00:00Z ')).toMatchObject({ text: '' });
    expect(parsePodLogLine('not a timestamp')).toBeUndefined();
  });

  it('compares timestamps of any precision', () => {
    expect(timestampNanos('2026-11-28T04:00:00.1Z')).toBe(timestampNanos('2026-11-28T04:00:00.100000000Z'));
    expect(timestampNanos('2026-11-28T04:00:00.12Z') > timestampNanos('2026-11-28T04:00:00.1Z')).toBe(true);
  });
});

describe('resuming a pod log from a cursor', () => {
  const lines = ['2026-11-28T04:00:00.5Z', '2026-11-28T04:00:01Z', '2026-11-28T04:00:01Z', '2026-11-28T04:00:01.2Z'].map((o, i) => line(o, `l${i}`));

  it('takes every line the first time', () => {
    const filter = new CursorFilter(undefined);
    expect(lines.filter((l) => filter.take(l)).map((l) => l.text)).toEqual(['l0', 'l1', 'l2', 'l3']);
    expect(filter.position).toEqual({ origin: '2026-11-28T04:00:01.2Z', count: 1 });
  });

  it('repeats no line and loses none when read again from the same second', () => {
    const filter = new CursorFilter({ origin: '2026-11-28T04:00:01Z', count: 1 });
    expect(filter.sinceTime).toBe('2026-11-28T04:00:01Z');
    expect(lines.filter((l) => filter.take(l)).map((l) => l.text)).toEqual(['l2', 'l3']);
  });

  it('starts over the count each time it rewinds', () => {
    const filter = new CursorFilter(undefined);
    lines.slice(0, 2).forEach((l) => filter.take(l));
    filter.rewind();
    expect(lines.filter((l) => filter.take(l)).map((l) => l.text)).toEqual(['l2', 'l3']);
  });
});

describe('where an adopted run goes on reading', () => {
  const at = '2026-11-28T04:00:01.5Z';

  it('reads both logs from the start when nothing of either was stored', () => {
    expect(resumePoint(undefined)).toEqual({ fetch: undefined, fetchRead: false, script: undefined });
  });

  it("goes on with the packages' log after its last stored line, then the script's from the start", () => {
    expect(resumePoint({ origin: fetchLineOrigin(at), count: 2 })).toEqual({ fetch: { origin: at, count: 2 }, fetchRead: false, script: undefined });
  });

  it("takes every package line as stored once a script line was (the packages' log is read first)", () => {
    expect(resumePoint({ origin: at, count: 1 })).toEqual({ fetch: undefined, fetchRead: true, script: { origin: at, count: 1 } });
  });
});
