import { describe, expect, it } from 'vitest';
import type { LogLine, OperationStatus } from '../../core/contract/status.js';
import type { OperationRecord } from '../../core/operation-store.js';
import { toStatus } from '../../dispatcher/operations.js';

const QUEUED = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const STARTED = QUEUED + 1500;
const FINISHED = STARTED + 60_000;

const record = (extra: Partial<OperationRecord> = {}): OperationRecord => ({
  ticket: 'deploy-42',
  pool: 'default',
  state: 'queued',
  bodyHash: 'hash',
  queuedAt: QUEUED,
  cancelRequested: false,
  timeline: { accepted: QUEUED - 2, queued: QUEUED },
  ...extra,
});

const line = (seq: number, text = `line ${seq}`): LogLine => ({ seq, at: new Date(QUEUED + seq).toISOString(), stream: 'stdout', text });

describe('toStatus', () => {
  it('reports a queued operation with only the fields it has', () => {
    expect(toStatus(record({ executor: 'exec-1', cancelRequested: true }), [], 0)).toStrictEqual<OperationStatus>({
      ticket: 'deploy-42',
      pool: 'default',
      state: 'queued',
      logs: [],
      nextSequence: 0,
      timings: { queuedAt: '2025-01-02T03:04:05.678Z' },
      timeline: { accepted: '2025-01-02T03:04:05.676Z', queued: '2025-01-02T03:04:05.678Z' },
    });
  });

  it('reports a finished operation with every field', () => {
    const logs = [line(1), line(2)];
    expect(
      toStatus(
        record({
          taskId: 'ServerTasks-1',
          state: 'failed',
          startedAt: STARTED,
          finishedAt: FINISHED,
          exitCode: 1,
          failure: { reason: 'ScriptFailed', message: 'exit 1' },
          outputVariables: { Version: { value: '1.2.3', sensitive: false } },
          timeline: { accepted: QUEUED - 2, queued: QUEUED, picked: QUEUED + 100, started: STARTED, scriptEnded: FINISHED - 10, recorded: FINISHED },
        }),
        logs,
        0,
      ),
    ).toStrictEqual<OperationStatus>({
      ticket: 'deploy-42',
      pool: 'default',
      taskId: 'ServerTasks-1',
      state: 'failed',
      exitCode: 1,
      failure: { reason: 'ScriptFailed', message: 'exit 1' },
      outputVariables: { Version: { value: '1.2.3', sensitive: false } },
      logs,
      nextSequence: 2,
      timings: { queuedAt: '2025-01-02T03:04:05.678Z', startedAt: '2025-01-02T03:04:07.178Z', finishedAt: '2025-01-02T03:05:07.178Z' },
      timeline: {
        accepted: '2025-01-02T03:04:05.676Z',
        queued: '2025-01-02T03:04:05.678Z',
        picked: '2025-01-02T03:04:05.778Z',
        started: '2025-01-02T03:04:07.178Z',
        scriptEnded: '2025-01-02T03:05:07.168Z',
        recorded: '2025-01-02T03:05:07.178Z',
      },
    });
  });

  it("gives a Kubernetes run's timeline in the order of its moments, with how long the image pull took", () => {
    const timeline = toStatus(
      record({
        state: 'running',
        timeline: {
          firstLine: QUEUED + 9000,
          imagePullSeconds: 4.2,
          started: QUEUED + 8000,
          imagePulled: QUEUED + 7000,
          podScheduled: QUEUED + 1000,
          jobCreated: QUEUED + 500,
          picked: QUEUED + 100,
          queued: QUEUED,
          accepted: QUEUED,
        },
      }),
      [],
      0,
    ).timeline;
    expect(Object.keys(timeline)).toEqual([
      'accepted',
      'queued',
      'picked',
      'jobCreated',
      'podScheduled',
      'imagePulled',
      'started',
      'firstLine',
      'imagePullSeconds',
    ]);
    expect(timeline).toMatchObject({ podScheduled: '2025-01-02T03:04:06.678Z', imagePullSeconds: 4.2 });
  });

  it.each<[string, LogLine[], number, number]>([
    ['no lines from the start', [], 0, 0],
    ['no lines after a sequence', [], 17, 17],
    ['one line', [line(5)], 4, 5],
    ['several lines', [line(8), line(9), line(10)], 7, 10],
    ['lines after a gap left by dropped lines', [line(20), line(31)], 3, 31],
  ])('sets nextSequence for %s', (_case, logs, afterSequence, expected) => {
    expect(toStatus(record({ state: 'running' }), logs, afterSequence).nextSequence).toBe(expected);
  });

  it.each<[string, Partial<OperationRecord>, string[]]>([
    ['an exit code of 0', { state: 'succeeded', exitCode: 0 }, ['exitCode']],
    ['a negative exit code', { state: 'cancelled', exitCode: -43 }, ['exitCode']],
    ['a task id', { taskId: 'ServerTasks-9' }, ['taskId']],
    ['empty output variables', { outputVariables: {} }, ['outputVariables']],
  ])('keeps %s', (_case, extra, keys) => {
    const status = toStatus(record(extra), [], 0);
    for (const key of keys) expect(status).toHaveProperty(key, extra[key as keyof OperationRecord]);
  });

  it.each<[string, Partial<OperationRecord>, string]>([
    ['an empty task id', { taskId: '' }, 'taskId'],
    ['an absent exit code', { state: 'running' }, 'exitCode'],
    ['an absent failure', { state: 'succeeded', exitCode: 0 }, 'failure'],
    ['absent output variables', { state: 'succeeded', exitCode: 0 }, 'outputVariables'],
  ])('omits %s', (_case, extra, key) => {
    expect(toStatus(record(extra), [], 0)).not.toHaveProperty(key);
  });

  it('omits timings not reached yet', () => {
    expect(toStatus(record({ state: 'running', startedAt: STARTED }), [], 0).timings).toStrictEqual({
      queuedAt: '2025-01-02T03:04:05.678Z',
      startedAt: '2025-01-02T03:04:07.178Z',
    });
  });

  it('does not leak internal fields of the record', () => {
    const status = toStatus(record({ executor: 'exec-1', cancelRequested: true }), [], 0);
    for (const key of ['bodyHash', 'executor', 'cancelRequested']) expect(status).not.toHaveProperty(key);
  });
});
