/**
 * The end from the script, on the real node, in a cold pod and in a warm one: the result comes from
 * the launcher's sealed end line in the pod's own log, and nothing a script prints can stand in for
 * it, not even with what a warm pod was sent.
 */
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { bash } from '../integration/support/stack.js';
import { useJobsMade } from './support/jobs-made.js';
import { useKubeWorker } from './support/kube-worker.js';
import { describeInPodModes, expectRanIn, podModeEnv, warmPoolReady } from './support/pod-modes.js';

describeInPodModes('the end from the script', (mode) => {
  // A default limit, so that an operation with no resources of its own (one a warm pod takes) can be OOM-killed.
  const kw = useKubeWorker('script-end', { ...podModeEnv(mode), KUBE_WORKER_SCRIPT_LIMITS_MEMORY: '96Mi' });
  const jobs = useJobsMade(kw.ns);
  beforeAll(() => kw.addExecutor());
  beforeEach(() => warmPoolReady(mode, `${kw.stack.url}/metrics`));

  const lines = (status: { logs: Array<{ stream: string; text: string }> }, stream: string): string[] =>
    status.logs.filter((l) => l.stream === stream).map((l) => l.text);

  it('records the exit code and the last lines, one without a newline included, and none of the launcher’s own lines', async () => {
    // No stderr here: the tagger's lines come asynchronously and may join a last line without a newline.
    const ticket = await kw.stack.submit(bash('echo first-line; printf partial; exit 3'));
    const status = await kw.stack.waitUntilDone(ticket, 60_000);
    expect({ state: status.state, exitCode: status.exitCode, reason: status.failure?.reason }).toEqual({
      state: 'failed',
      exitCode: 3,
      reason: 'ScriptFailed',
    });
    expect(lines(status, 'stdout')).toEqual(['first-line', 'partial']);
    expect(status.logs.some((l) => l.text.includes('\u001f'))).toBe(false);
    await expectRanIn(mode, jobs, ticket);
  });

  it('does not end an operation on an end line the script prints itself, with any key it can make up or find', async () => {
    const script = [
      // A fresh key, and whatever its environment, files and launcher hold that looks like one.
      `printf '\\037kube-worker end 0 0 %s\\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \\n')"`,
      'echo "in env: $(env | grep -c kw_)"',
      `for key in $(cat /kube-worker/operation/* 2>/dev/null | grep -o '[0-9a-f]\\{32\\}'); do printf '\\037kube-worker end 0 0 %s\\n' "$key"; done`,
      'echo after',
      'sleep 1',
      'exit 4',
    ].join('\n');
    const ticket = await kw.stack.submit(bash(script));
    const status = await kw.stack.waitUntilDone(ticket, 60_000);
    expect({ state: status.state, exitCode: status.exitCode }).toEqual({ state: 'failed', exitCode: 4 });
    const out = lines(status, 'stdout');
    expect(out[0]!.startsWith('\u001fkube-worker end 0 0 ')).toBe(true);
    expect(out).toContain('in env: 0');
    expect(out.at(-1)).toBe('after');
    await expectRanIn(mode, jobs, ticket);
  });

  it('can read the OOM-kill count of its container here, so the end line carries one', async () => {
    const ticket = await kw.stack.submit(bash('cat /sys/fs/cgroup/memory.events 2>/dev/null || cat /sys/fs/cgroup/memory/memory.oom_control'));
    const status = await kw.stack.waitUntilDone(ticket, 60_000);
    expect(status.state).toBe('succeeded');
    expect(lines(status, 'stdout')).toContainEqual(expect.stringMatching(/^oom_kill \d+$/));
    await expectRanIn(mode, jobs, ticket);
  });

  it('still ends OOMKilled when the shell goes on after the kernel killed its child: the status decides', async () => {
    const ticket = await kw.stack.submit(bash('python3 -c "b = bytearray(512 * 1024 * 1024)"; echo "python exited $?"; exit 0'));
    const status = await kw.stack.waitUntilDone(ticket, 90_000);
    expect({ state: status.state, exitCode: status.exitCode, reason: status.failure?.reason }).toEqual({ state: 'failed', exitCode: -81, reason: 'OOMKilled' });
    expect(lines(status, 'stdout')).toContain('python exited 137');
    await expectRanIn(mode, jobs, ticket);
  });
});
