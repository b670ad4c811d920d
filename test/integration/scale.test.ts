import { readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedFile } from './support/shared-file.js';
import { bash, useStack } from './support/stack.js';

describe('many operations across executors', () => {
  const stack = useStack({ executors: 2, env: { KUBE_WORKER_CONCURRENCY: '8' } });

  it('runs 200 operations across two executors, each exactly once', async () => {
    const file = sharedFile(`/tmp/kw-scale-${Date.now()}`);
    const tickets = await Promise.all(
      Array.from({ length: 200 }, (_, i) => stack.submit(bash(`echo "$KUBE_WORKER_TICKET" >> ${file}`, { ticket: `scale-${i}` }))),
    );
    const results = await Promise.all(tickets.map((t) => stack.waitUntilDone(t, 120_000)));
    expect(results.every((r) => r.state === 'succeeded')).toBe(true);
    const runs = readFileSync(file, 'utf8').trim().split('\n');
    expect(runs).toHaveLength(200);
    expect(new Set(runs).size).toBe(200);
    const executorsUsed = new Set(results.map((r) => r.logs[0]!.text.split(' ')[4]));
    expect(executorsUsed.size).toBe(2);
    rmSync(file);
  }, 240_000); // what it proves is "each once", not how fast: on a loaded machine 200 runs take minutes
});
