import { readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { childExecutors } from './support/child-executor.js';
import { sharedFile } from './support/shared-file.js';
import { bash, startStack, type Stack } from './support/stack.js';

/** Each script records when it held the mutex: "<ticket> start|end <ns>". */
const recorder = (file: string, seconds: number): string =>
  `echo "$KUBE_WORKER_TICKET start $(date +%s%N)" >> ${file}; sleep ${seconds}; echo "$KUBE_WORKER_TICKET end $(date +%s%N)" >> ${file}`;

function marks(file: string): Array<{ ticket: string; kind: string; at: bigint }> {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [ticket, kind, ns] = line.split(' ');
      return { ticket: ticket!, kind: kind!, at: BigInt(ns!) };
    });
}

/** Read in time order, no ticket may start while another has started and not ended. */
function overlapping(file: string): string[] {
  const open = new Set<string>();
  const found: string[] = [];
  for (const mark of marks(file).sort((a, b) => (a.at < b.at ? -1 : 1))) {
    if (mark.kind === 'start') {
      if (open.size > 0) found.push(`${mark.ticket} started while ${[...open].join(',')} held the mutex`);
      open.add(mark.ticket);
    } else open.delete(mark.ticket);
  }
  return found;
}

/** Executors in processes of their own start slowly on a loaded machine. */
const SLOW = 180_000;

const starts = (file: string, ticket: string): number => marks(file).filter((m) => m.ticket === ticket && m.kind === 'start').length;
const full = (mutexName: string) => ({ isolation: { level: 'full', mutexName } });
const waitingLine = (mutexName: string) => (status: { logs: Array<{ text: string }> }) =>
  status.logs.some((l) => l.text === `Waiting for exclusive use of mutex "${mutexName}"…`);

describe('full isolation when an executor stops, pauses or hands back', () => {
  let stack: Stack;
  const files: string[] = [];
  const file = (): string => {
    const name = `/tmp/kw-mutex-${Date.now()}-${files.length}`;
    files.push(name);
    return sharedFile(name);
  };
  const children = childExecutors();
  afterEach(async () => {
    children.killAll();
    await stack.close();
    for (const f of files.splice(0)) rmSync(f, { force: true });
  });

  it(
    'on SIGTERM, an operation waiting for its mutex is handed back and runs once on another executor',
    async () => {
      stack = await startStack({ executors: 0 });
      const stopping = await children.spawn(stack, { KUBE_WORKER_SHUTDOWN_GRACE_SECONDS: '1' });
      const runs = file();
      const holder = await stack.submit(bash('sleep 30', full('deploy')));
      await stack.waitForState(holder, ['running']);
      const waiter = await stack.submit(bash(recorder(runs, 0), full('deploy')));
      await stack.waitFor(waiter, 'waiting for its mutex', waitingLine('deploy'));
      stopping.process.kill('SIGTERM');
      expect(await stopping.exited).toBe(0);
      expect((await stack.api('GET', `/api/v1/operations/${waiter}`)).body.state).toBe('queued');
      await stack.addExecutor();
      const status = await stack.waitUntilDone(waiter);
      expect(status.state).toBe('succeeded');
      expect(starts(runs, waiter)).toBe(1);
    },
    SLOW,
  );

  it(
    'holds across a pause of the executor longer than its lock: no overlap, and the paused run is recorded once as it ended',
    async () => {
      const fast = { KUBE_WORKER_LOCK_DURATION_MS: '2000' };
      stack = await startStack({ executors: 0, env: fast });
      const paused = await children.spawn(stack, { ...fast, KUBE_WORKER_CONCURRENCY: '1' });
      const held = file();
      const first = await stack.submit(bash(recorder(held, 20), full('prod-db')));
      await stack.waitForState(first, ['running']);
      await stack.addExecutor();
      const second = await stack.submit(bash(recorder(held, 1), full('prod-db')));
      await stack.waitFor(second, 'waiting for its mutex', waitingLine('prod-db'));
      paused.process.kill('SIGSTOP');
      // Longer than the lock (the operation is delivered again), shorter than the stale window.
      await new Promise((r) => setTimeout(r, 6000));
      paused.process.kill('SIGCONT');
      const [a, b] = await Promise.all([stack.waitUntilDone(first, 60_000), stack.waitUntilDone(second, 60_000)]);
      expect(overlapping(held)).toEqual([]);
      expect([a.state, b.state]).toEqual(['succeeded', 'succeeded']);
      expect(starts(held, first)).toBe(1);
    },
    SLOW,
  );
});
