import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runManyExecutors, startManyExecutors, type ManyExecutors } from './support/many-executors.js';
import { report } from './support/report.js';

// The reduced form of bench/executors.ts (2,000 operations): as many executors, fewer operations and
// slots, so that it fits beside the other tests on two cores.
const EXECUTORS = 8;
const OPERATIONS = 400;

describe('many executor processes on one queue', () => {
  let deployment: ManyExecutors | undefined;
  // Nine processes compiling their TypeScript at once take minutes on a loaded two-core machine.
  beforeAll(async () => {
    deployment = await startManyExecutors({ executors: EXECUTORS, concurrency: 2 });
  }, 600_000);
  afterAll(() => deployment?.close());

  it(`${OPERATIONS} operations across ${EXECUTORS} executors: each runs once, every executor takes a share, and Redis runs a bounded number of commands per operation`, async () => {
    const { figures, load } = await runManyExecutors(deployment!, { operations: OPERATIONS, clients: 8, settleMs: 90_000 });
    report(`${EXECUTORS} executors`, load, figures.ledger, figures.seconds);
    console.info(
      `  shares ${JSON.stringify(figures.shares)}\n  Redis commands per operation ${figures.commandsPerOperation}, ` +
        `${figures.commandsPerOperationBeyondIdle} beyond idle (idle ${figures.idleCommandsPerSecond}/s) ${JSON.stringify(figures.commandsPerOperationByName)}`,
    );

    // A request slower than the client's timeout is retried with its ticket (reported, not failed: this is no fault test).
    expect(load.unexpected.slice(0, 3)).toEqual([]);
    expect(figures.ledger).toMatchObject({ submitted: OPERATIONS, ended: OPERATIONS, repeated: 0, lost: 0, ranUnaccepted: 0 });
    expect(figures.ledger.outcomes).toEqual({ succeeded: OPERATIONS });
    expect(figures.unattributed).toBe(0);
    expect(Object.keys(figures.shares)).toHaveLength(EXECUTORS);
    // About 76 here (2026-12-06); a poll or watch per operation would add hundreds.
    expect(figures.commandsPerOperationBeyondIdle).toBeLessThanOrEqual(100);
  }, 600_000); // what it proves is "each once" and who ran what, not how fast: on a loaded machine 400 runs take minutes
});
