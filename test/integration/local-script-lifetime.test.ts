import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnExecutor, type ChildExecutor } from './support/child-executor.js';
import { processesOf } from './support/processes.js';
import { bash, startStack, type Stack } from './support/stack.js';

/** Live (not zombie) processes whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses, so read after the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return members;
}

describe('a local script and its executor', () => {
  let stack: Stack;
  let doomed: ChildExecutor | undefined;
  afterEach(async () => {
    doomed?.process.kill('SIGKILL');
    await stack.close();
  });

  it('when the executor is killed, its scripts and what they started are killed too, detached ones under root', async () => {
    stack = await startStack({ executors: 0, env: { KUBE_WORKER_LOCK_DURATION_MS: '2000' } });
    doomed = await spawnExecutor(stack, { KUBE_WORKER_LOCK_DURATION_MS: '2000' });
    const ticket = await stack.submit(bash('echo "uid=$(id -u)"; setsid sleep 300 & echo "group=$$"; sleep 300 & sleep 300'));
    const running = await stack.waitFor(ticket, 'showing its group', (status) => status.logs.some((l) => l.text.startsWith('group=')));
    const value = (name: string): number => Number(running.logs.find((l) => l.text.startsWith(`${name}=`))!.text.slice(name.length + 1));
    const [pgid, uid] = [value('group'), value('uid')];
    // The script and its two sleeps (and its watchdog); the detached sleep is outside the group.
    expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(3);
    const root = process.getuid!() === 0;
    if (root) expect(processesOf(uid).length).toBeGreaterThanOrEqual(4);

    doomed.process.kill('SIGKILL');
    await doomed.exited;
    const gone = (): boolean => groupMembers(pgid).length === 0 && (!root || processesOf(uid).length === 0);
    for (let polls = 0; !gone() && polls < 50; polls += 1) await new Promise((r) => setTimeout(r, 100));
    expect(groupMembers(pgid)).toEqual([]);
    // With a user of its own, the watchdog kills every process of that user.
    if (root) expect(processesOf(uid)).toEqual([]);

    await stack.addExecutor({ lockDurationMs: 2000 });
    const status = await stack.waitUntilDone(ticket, 30_000);
    expect(status.failure?.reason).toBe('ExecutorLost');
  }, 180_000);

  it('a script that waits for all its children is not kept waiting by the watchdog', async () => {
    stack = await startStack();
    const ticket = await stack.submit(bash('sleep 0.2 & wait; echo waited'));
    const status = await stack.waitUntilDone(ticket, 10_000);
    expect(status.state).toBe('succeeded');
    expect(status.logs.map((l) => l.text)).toContain('waited');
  });
});
