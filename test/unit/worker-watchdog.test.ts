import { describe, expect, it } from 'vitest';
import { diagnose, type Observation, type WaitingSince } from '../../executor/worker-watchdog.js';

const STALL_MS = 10_000;
const pool = (waiting: number, extra: Partial<Observation['pools'][number]> = {}) => ({
  pool: 'default',
  waiting,
  running: 0,
  paused: false,
  lastTakenAt: 0,
  ...extra,
});
const at = (now: number, pools: Observation['pools'], extra: Partial<Observation> = {}): Observation => ({
  now,
  connection: 'ready',
  since: 0,
  primaryAnswers: true,
  concurrency: 4,
  pools,
  ...extra,
});

/** Runs observations through one watchdog's memory; the reasons it gives, in order. */
function run(observations: Observation[]): Array<string | undefined> {
  const since: WaitingSince = new Map();
  return observations.map((o) => diagnose(o, since, STALL_MS));
}

describe('the queue watchdog', () => {
  it('replaces workers whose connection has ended, at once', () => {
    expect(run([at(1000, [pool(0)], { connection: 'end' })])[0]).toMatch(/connection has ended/);
  });

  it('replaces workers that took nothing for the stall window while operations waited and they had room', () => {
    const reasons = run([at(1000, [pool(3)]), at(6000, [pool(3)]), at(11_000, [pool(3)])]);
    expect(reasons.slice(0, 2)).toEqual([undefined, undefined]);
    expect(reasons[2]).toMatch(/pool default: 3 operations waited 10s/);
  });

  it.each([
    ['they took an operation meanwhile', [at(1000, [pool(3)]), at(11_000, [pool(3, { lastTakenAt: 5000 })]), at(16_000, [pool(3, { lastTakenAt: 5000 })])]],
    ['they are full', [at(1000, [pool(3, { running: 4 })]), at(11_000, [pool(3, { running: 4 })])]],
    ['the queue or the worker is paused', [at(1000, [pool(3, { paused: true })]), at(11_000, [pool(3, { paused: true })])]],
    ['the queue emptied in between', [at(1000, [pool(3)]), at(6000, [pool(0)]), at(11_000, [pool(3)])]],
    [
      'the primary does not answer (Redis is away, not the workers)',
      [at(1000, [pool(3)], { primaryAnswers: false }), at(11_000, [pool(3)], { primaryAnswers: false })],
    ],
    ['the workers are new', [at(1000, [pool(3)], { since: 5000 }), at(11_000, [pool(3)], { since: 5000 })]],
  ])('leaves workers alone when %s', (_why, observations) => {
    expect(run(observations)).toEqual(observations.map(() => undefined));
  });
});
