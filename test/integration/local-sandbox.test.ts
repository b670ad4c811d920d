/**
 * One operation, one user, nothing left behind: under a root executor each running operation of
 * the local runtime has a uid of its own, cannot reach another's environment, files or processes,
 * and leaves no process behind when it ends, is cancelled or times out. With one user for every
 * script (what an executor that is not root gives), the result still comes from the script's own
 * end, whatever a detached process keeps open. Every detached sleep outlasts the test's timeout, so
 * a result that waited for one would never come.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OperationStatus } from '../../core/contract/status.js';
import { spawnExecutor, type ChildExecutor } from './support/child-executor.js';
import { alive, processesOf } from './support/processes.js';
import { b64, bash, startStack, type Stack } from './support/stack.js';

const root = process.getuid?.() === 0;

/** The value of the first "name=value" line the script printed. */
function printed(status: OperationStatus, name: string): string | undefined {
  return status.logs.find((line) => line.text.startsWith(`${name}=`))?.text.slice(name.length + 1);
}

const texts = (status: OperationStatus): string[] => status.logs.map((line) => line.text);

/**
 * `left <pid>` waits until process <pid> has left the script's session, then prints "sleeper=<pid>":
 * a script that ended sooner would have it killed with its process group before it got away.
 */
const LEFT = 'left() { while [ "$(ps -o sid= -p "$1" | tr -d " ")" = "$$" ]; do sleep 0.05; done; echo "sleeper=$1"; }';

/** Every way a script can leave a process behind, each sleeping far beyond the test. */
const DETACHED = [
  LEFT,
  'setsid sleep 300 & left $!',
  `(setsid sh -c 'sleep 301 & echo $! > "$HOME/double-fork"' &); while [ ! -s "$HOME/double-fork" ]; do sleep 0.05; done; left "$(cat "$HOME/double-fork")"`,
  'nohup sleep 302 >/dev/null 2>&1 & echo "sleeper=$!"',
  '(sleep 303 </dev/null >/dev/null 2>&1 & echo "sleeper=$!")',
].join('\n');

/** A process that leaves the script's session, holding its output. */
const SETSID = `${LEFT}\nsetsid sleep 300 & left $!`;

describe.skipIf(!root)('the local runtime under a root executor: one operation, one user, nothing left behind', () => {
  let stack: Stack;
  const holders: ChildProcess[] = [];
  afterEach(async () => {
    for (const holder of holders.splice(0)) holder.kill('SIGKILL');
    await stack?.close();
  });

  it("a script can neither read another running operation's environment or files, nor signal its processes", async () => {
    stack = await startStack();
    const victim = await stack.submit(
      bash('echo "pid=$$"; echo "uid=$(id -u)"; sleep 300', {
        variables: { VICTIM_SECRET: { value: 'environ-secret-3141592653', sensitive: true } },
        files: [{ name: 'secret.txt', content: b64('file-secret-2718281828') }],
      }),
    );
    const running = await stack.waitFor(victim, 'showing its pid', (status) => printed(status, 'uid') !== undefined);
    const pid = printed(running, 'pid')!;
    const snoop = await stack.submit(
      bash(
        [
          'echo "uid=$(id -u)"',
          `cat /proc/${pid}/environ; echo "environ=$?"`,
          `ls /proc/${pid}/cwd/; echo "cwd=$?"`,
          `cat /proc/${pid}/cwd/secret.txt; echo "file=$?"`,
          `kill -0 ${pid}; echo "signal=$?"`,
        ].join('\n'),
      ),
    );
    const snooped = await stack.waitUntilDone(snoop);
    expect(snooped.state).toBe('succeeded');
    expect(printed(snooped, 'uid')).not.toBe(printed(running, 'uid'));
    expect(printed(snooped, 'environ')).not.toBe('0');
    expect(printed(snooped, 'cwd')).not.toBe('0');
    expect(printed(snooped, 'file')).not.toBe('0');
    expect(printed(snooped, 'signal')).not.toBe('0');
    expect(texts(snooped).join('\n')).not.toMatch(/environ-secret|file-secret/);
    await stack.api('POST', `/api/v1/operations/${victim}/cancel`);
    expect((await stack.waitUntilDone(victim)).state).toBe('cancelled');
  }, 60_000);

  it("ends at the script's own end with every detached process of its user killed", async () => {
    stack = await startStack();
    const ticket = await stack.submit(bash(`echo "uid=$(id -u)"\n${DETACHED}\necho "running=$(ps -o pid= -u "$(id -u)" | wc -l)"; echo done`));
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('succeeded');
    expect(texts(status)).toContain('done');
    const sleepers = status.logs.filter((line) => line.text.startsWith('sleeper=')).map((line) => Number(line.text.slice('sleeper='.length)));
    expect(sleepers).toHaveLength(4);
    // The script itself, the four sleeps, the watchdog, and ps and wc.
    expect(Number(printed(status, 'running'))).toBeGreaterThanOrEqual(6);
    expect(processesOf(Number(printed(status, 'uid')))).toEqual([]);
  }, 60_000);

  it("on cancel, stops every process of the operation's user, detached ones included", async () => {
    stack = await startStack();
    const ticket = await stack.submit(bash(`echo "uid=$(id -u)"\n${DETACHED}\nsleep 300`));
    const running = await stack.waitFor(ticket, 'detached', (status) => status.logs.filter((line) => line.text.startsWith('sleeper=')).length === 4);
    const uid = Number(printed(running, 'uid'));
    expect(processesOf(uid).length).toBeGreaterThanOrEqual(5);
    expect((await stack.api('POST', `/api/v1/operations/${ticket}/cancel`)).status).toBe(202);
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('cancelled');
    expect(processesOf(uid)).toEqual([]);
  }, 60_000);

  it("on timeout, stops every process of the operation's user, detached ones included", async () => {
    stack = await startStack();
    const ticket = await stack.submit(bash(`echo "uid=$(id -u)"\n${DETACHED}\nsleep 300`, { timeoutSeconds: 5 }));
    const status = await stack.waitUntilDone(ticket);
    expect(status.failure?.reason).toBe('DeadlineExceeded');
    expect(status.logs.filter((line) => line.text.startsWith('sleeper='))).toHaveLength(4);
    expect(processesOf(Number(printed(status, 'uid')))).toEqual([]);
  }, 60_000);

  it('does not hold up the next operation in the queue', async () => {
    stack = await startStack({ env: { KUBE_WORKER_CONCURRENCY: '1' } });
    const first = await stack.submit(bash(`${DETACHED}\necho first`));
    const second = await stack.submit(bash('echo second'));
    const [one, two] = [await stack.waitUntilDone(first), await stack.waitUntilDone(second)];
    expect(one.state).toBe('succeeded');
    expect(two.state).toBe('succeeded');
    expect(texts(two)).toContain('second');
  }, 60_000);

  it('never gives a uid to two running operations, nor one that a process still has', async () => {
    // A range of two, of this test alone: one uid held by a process, one by a running operation.
    const [held, free] = [2_100_000_000, 2_100_000_001];
    stack = await startStack({ env: { KUBE_WORKER_LOCAL_UIDS: `${held}-${free}`, KUBE_WORKER_CONCURRENCY: '2' } });
    const holder = spawn('sleep', ['300'], { uid: held, gid: held, stdio: 'ignore' });
    holders.push(holder);
    await new Promise((resolve) => holder.once('spawn', resolve));

    const running = await stack.submit(bash('echo "uid=$(id -u)"; sleep 300'));
    const first = await stack.waitFor(running, 'showing its uid', (status) => printed(status, 'uid') !== undefined);
    expect(printed(first, 'uid')).toBe(String(free));
    const refused = await stack.waitUntilDone(await stack.submit(bash('echo never')));
    expect(refused.failure).toMatchObject({ reason: 'RuntimeError', message: expect.stringMatching(/KUBE_WORKER_LOCAL_UIDS/) });
    expect(texts(refused)).not.toContain('never');

    await stack.api('POST', `/api/v1/operations/${running}/cancel`);
    await stack.waitUntilDone(running);
    // The holder was not the operation's: it is not killed, and its uid stays out of use.
    expect(alive(holder.pid!)).toBe(true);
    const next = await stack.waitUntilDone(await stack.submit(bash('echo "uid=$(id -u)"')));
    expect(printed(next, 'uid')).toBe(String(free));
  }, 60_000);
});

describe('the local runtime with one user for every script, as an executor that is not root runs them', () => {
  // A user of its own for this file, so that the leftovers killed below are certainly its own.
  const shared: Record<string, string> = root ? { KUBE_WORKER_LOCAL_USER: '2100000100:2100000100' } : {};
  let stack: Stack;
  const leftovers: number[] = [];
  afterEach(async () => {
    for (const pid of leftovers.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await stack?.close();
  });

  /** The sleepers the script left, all still running now that its result is recorded. */
  function leftBehind(status: OperationStatus): number[] {
    const sleepers = status.logs.filter((line) => line.text.startsWith('sleeper=')).map((line) => Number(line.text.slice('sleeper='.length)));
    leftovers.push(...sleepers);
    return sleepers.filter(alive);
  }

  it('records a normal end while a detached process still holds the output', async () => {
    stack = await startStack({ env: shared });
    const ticket = await stack.submit(bash(`${SETSID}\necho done`));
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('succeeded');
    expect(texts(status)).toContain('done');
    expect(leftBehind(status)).toHaveLength(1);
  }, 60_000);

  it('records a cancel while a detached process still holds the output', async () => {
    stack = await startStack({ env: shared });
    const ticket = await stack.submit(bash(`${SETSID}\nsleep 300`));
    await stack.waitFor(ticket, 'detached', (status) => printed(status, 'sleeper') !== undefined);
    await stack.api('POST', `/api/v1/operations/${ticket}/cancel`);
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('cancelled');
    expect(leftBehind(status)).toHaveLength(1);
  }, 60_000);

  it('records a timeout while a detached process still holds the output', async () => {
    stack = await startStack({ env: shared });
    const ticket = await stack.submit(bash(`${SETSID}\nsleep 300`, { timeoutSeconds: 5 }));
    const status = await stack.waitUntilDone(ticket);
    expect(status.failure?.reason).toBe('DeadlineExceeded');
    expect(leftBehind(status)).toHaveLength(1);
  }, 60_000);

  it('does not hold up the next operation in the queue', async () => {
    stack = await startStack({ env: { ...shared, KUBE_WORKER_CONCURRENCY: '1' } });
    const first = await stack.submit(bash(`${SETSID}\necho first`));
    const second = await stack.submit(bash('echo second'));
    const [one, two] = [await stack.waitUntilDone(first), await stack.waitUntilDone(second)];
    expect(one.state).toBe('succeeded');
    expect(two.state).toBe('succeeded');
    expect(leftBehind(one)).toHaveLength(1);
  }, 60_000);
});

describe.skipIf(!root)('an executor that is not root, started as another user', () => {
  const user = { uid: 2_100_000_400, gid: 2_100_000_400 };
  let stack: Stack;
  let executor: ChildExecutor;
  let workDir: string;
  const leftovers: number[] = [];
  beforeAll(async () => {
    stack = await startStack({ executors: 0 });
    workDir = await mkdtemp(path.join(os.tmpdir(), 'kw-nonroot-'));
    await chown(workDir, user.uid, user.gid);
    executor = await spawnExecutor(stack, { KUBE_WORKER_WORK_DIR: path.join(workDir, 'work'), KUBE_WORKER_CONCURRENCY: '1' }, user);
  }, 120_000);
  afterAll(async () => {
    executor?.process.kill('SIGKILL');
    for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await stack?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  /** The sleeper the script left, if it still runs now that the result is recorded. */
  function stillRunning(status: OperationStatus): boolean {
    const pid = Number(printed(status, 'sleeper'));
    leftovers.push(pid);
    return pid > 0 && alive(pid);
  }

  it('runs scripts as itself, records their end while a detached process holds the output, and takes the next', async () => {
    const first = await stack.submit(bash(`echo "uid=$(id -u)"\n${SETSID}\necho first`));
    const second = await stack.submit(bash('echo second'));
    const [one, two] = [await stack.waitUntilDone(first), await stack.waitUntilDone(second)];
    expect(one.state).toBe('succeeded');
    expect(printed(one, 'uid')).toBe(String(user.uid));
    expect(two.state).toBe('succeeded');
    expect(texts(two)).toContain('second');
    expect(stillRunning(one)).toBe(true);
  }, 60_000);

  it('records a cancel while a detached process holds the output', async () => {
    const ticket = await stack.submit(bash(`${SETSID}\nsleep 300`));
    await stack.waitFor(ticket, 'detached', (status) => printed(status, 'sleeper') !== undefined);
    await stack.api('POST', `/api/v1/operations/${ticket}/cancel`);
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('cancelled');
    expect(stillRunning(status)).toBe(true);
  }, 60_000);

  it('records a timeout while a detached process holds the output', async () => {
    const status = await stack.waitUntilDone(await stack.submit(bash(`${SETSID}\nsleep 300`, { timeoutSeconds: 5 })));
    expect(status.failure?.reason).toBe('DeadlineExceeded');
    expect(stillRunning(status)).toBe(true);
  }, 60_000);
});
