import { describe, expect, it, vi } from 'vitest';
import type { RunMoment } from '../../core/contract/timeline.js';
import { createLogger } from '../../core/logger.js';
import { createExecutorMetrics, createProcessMetrics } from '../../core/metrics.js';
import { RunTimeline } from '../../executor/run-timeline.js';

/** A run's timeline over a store that records what it is asked to write, and says `written` to it. */
function timelineOf(written = true) {
  const writes: [RunMoment, number][] = [];
  const store = {
    moment: vi.fn(async (_op: unknown, moment: RunMoment, at?: number) => {
      writes.push([moment, at!]);
      return written;
    }),
  };
  const metrics = createExecutorMetrics(createProcessMetrics());
  const timeline = new RunTimeline({ ticket: 't-1', pool: 'gpu' }, { store, metrics, logger: createLogger('silent', 'test') });
  const observed = async (name: 'podStartSeconds' | 'imagePullSeconds') => {
    const values = (await metrics[name].get()).values;
    return {
      count: values.find((v) => v.metricName?.endsWith('_count') && v.labels.pool === 'gpu')?.value ?? 0,
      sum: values.find((v) => v.metricName?.endsWith('_sum') && v.labels.pool === 'gpu')?.value ?? 0,
    };
  };
  return { timeline, writes, observed };
}

describe("a run's timeline", () => {
  it('writes each moment once, at the first time this run saw it', async () => {
    const { timeline, writes } = timelineOf();
    timeline.moment({ name: 'podScheduled' }, 1000);
    timeline.moment({ name: 'podScheduled' }, 2000);
    timeline.moment({ name: 'firstLine' }, 3000);
    await vi.waitFor(() => expect(writes).toHaveLength(2));
    expect(writes).toEqual([
      [{ name: 'podScheduled' }, 1000],
      [{ name: 'firstLine' }, 3000],
    ]);
  });

  it("observes a pod's start from the Job this run created until its script started", async () => {
    const { timeline, observed } = timelineOf();
    timeline.moment({ name: 'jobCreated' }, 10_000);
    timeline.started(14_500);
    expect(await observed('podStartSeconds')).toEqual({ count: 1, sum: 4.5 });
  });

  it('observes no pod start for a run that did not create its Job (an adopted one)', async () => {
    const { timeline, observed } = timelineOf();
    timeline.started(14_500);
    expect((await observed('podStartSeconds')).count).toBe(0);
  });

  it('observes an image pull once it is recorded, not when another run recorded it first', async () => {
    const first = timelineOf(true);
    first.timeline.moment({ name: 'imagePulled', pullSeconds: 2.5 });
    await vi.waitFor(async () => expect(await first.observed('imagePullSeconds')).toEqual({ count: 1, sum: 2.5 }));
    const again = timelineOf(false);
    again.timeline.moment({ name: 'imagePulled', pullSeconds: 2.5 });
    await vi.waitFor(() => expect(again.writes).toHaveLength(1));
    expect((await again.observed('imagePullSeconds')).count).toBe(0);
  });

  it('lets a moment that could not be written go without failing the run', async () => {
    const store = { moment: vi.fn(async () => Promise.reject(new Error('Redis is gone'))) };
    const failing = new RunTimeline(
      { ticket: 't-1', pool: 'gpu' },
      { store, metrics: createExecutorMetrics(createProcessMetrics()), logger: createLogger('silent', 'test') },
    );
    expect(() => failing.moment({ name: 'firstLine' })).not.toThrow();
    await vi.waitFor(() => expect(store.moment).toHaveBeenCalledOnce());
  });
});
