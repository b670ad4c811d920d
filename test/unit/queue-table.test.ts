import { describe, expect, it } from 'vitest';
import { depthTable } from '../../cli/commands/queues.js';

describe('kube-worker queues', () => {
  it('prints one row per pool under a header, numbers aligned right', () => {
    expect(
      depthTable([
        { pool: 'default', waiting: 3, active: 4, completed: 1200, failed: 7, delayed: 0 },
        { pool: 'gpu-large', waiting: 0, active: 1, completed: 5, failed: 0, delayed: 0 },
      ]),
    ).toBe(
      [
        'POOL       WAITING  ACTIVE  COMPLETED  FAILED  DELAYED',
        'default          3       4       1200       7        0',
        'gpu-large        0       1          5       0        0',
        '',
      ].join('\n'),
    );
  });
});
