import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchQueueErrors } from '../../executor/queue-errors.js';

function setup() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const worker = { pause: vi.fn(async () => undefined), resume: vi.fn() };
  return { lines, worker, errors: watchQueueErrors(worker, logger) };
}

describe('queue errors an executor reports', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('logs an error once, and its repeats once with their count', () => {
    const { lines, errors } = setup();
    for (let i = 0; i < 500; i += 1) errors.report(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'));
    expect(lines.filter((l) => l.msg === 'queue error')).toHaveLength(1);
    vi.advanceTimersByTime(30_000);
    expect(lines.filter((l) => l.repeated === 499)).toHaveLength(1);
    errors.close();
  });

  it('logs a different error when it appears, after the count of the one before', () => {
    const { lines, errors } = setup();
    errors.report(new Error('first'));
    errors.report(new Error('first'));
    errors.report(new Error('second'));
    errors.close();
    expect(lines.map((l) => (l.err ? (l.err as { message: string }).message : `${String(l.error)} ×${String(l.repeated)}`))).toEqual([
      'first',
      'first ×1',
      'second',
    ]);
  });

  it('stops fetching for a while when errors come in a tight loop, longer each time, then fetches again', () => {
    const { worker, errors } = setup();
    for (let i = 0; i < 10; i += 1) errors.report(new Error('loop'));
    expect(worker.pause).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(worker.resume).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 10; i += 1) errors.report(new Error('loop'));
    expect(worker.pause).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(1000);
    expect(worker.resume).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(worker.resume).toHaveBeenCalledTimes(2);
    errors.close();
  });

  it('does not pause for errors that come now and then', () => {
    const { worker, errors } = setup();
    for (let i = 0; i < 20; i += 1) {
      errors.report(new Error('connect ECONNREFUSED'));
      vi.advanceTimersByTime(500);
    }
    expect(worker.pause).not.toHaveBeenCalled();
    errors.close();
  });

  it('never resumes a worker after it was closed', () => {
    const { worker, errors } = setup();
    for (let i = 0; i < 10; i += 1) errors.report(new Error('loop'));
    errors.close();
    vi.advanceTimersByTime(60_000);
    expect(worker.resume).not.toHaveBeenCalled();
  });
});
