/**
 * The local runtime on its own, with real processes: what a script sees of the executor, and what
 * a caller's variables can and cannot do to it. No Redis: the output goes to a list.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogStream } from '../../core/contract/status.js';
import type { LogWriter } from '../../core/log-store.js';
import type { OperationRequest } from '../../core/contract/operation.js';
import { LocalRuntime, type LocalRuntimeOptions } from '../../executor/local/local-runtime.js';
import { ScriptOutput } from '../../executor/output/script-output.js';
import type { Outcome } from '../../core/contract/outcomes.js';
import { ensureToken } from '../../cli/api-token.js';
import { BASE_ENV } from './support/stack.js';

interface Ran {
  outcome: Outcome;
  lines: { stream: LogStream; text: string }[];
  stdout: string[];
}

async function run(request: Partial<OperationRequest>, options: Partial<LocalRuntimeOptions> = {}): Promise<Ran> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'kw-local-'));
  const lines: Ran['lines'] = [];
  const writer = {
    append: (stream: LogStream, text: string) => void lines.push({ stream, text }),
    note: (text: string) => void lines.push({ stream: 'system', text }),
    lastSequence: 0,
    close: async () => undefined,
  } as unknown as LogWriter;
  const runtime = await LocalRuntime.start({ workDir, baseEnv: BASE_ENV, ...options });
  const outcome = await runtime.run({
    ticket: 'local-test',
    request: { pool: 'default', script: { syntax: 'bash', body: 'true' }, ...request } as OperationRequest,
    timeoutSeconds: 30,
    output: new ScriptOutput(writer, []),
    started: async () => undefined,
    moment: () => undefined,
    signal: new AbortController().signal,
  });
  return { outcome, lines, stdout: lines.filter((l) => l.stream === 'stdout').map((l) => l.text) };
}

const bash = (body: string, variables: Record<string, string> = {}): Partial<OperationRequest> => ({
  script: { syntax: 'bash', body },
  variables: Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, { value, sensitive: false }])),
});

describe('the local runtime', () => {
  describe('keeps the executor out of reach of the script', () => {
    it('runs the script as a user of its own from the range when the executor is root, in a workspace it owns (0700)', async () => {
      expect(process.getuid!()).toBe(0);
      const { outcome, stdout } = await run(
        bash(
          'id -u; id -g; id -G; stat -c %u:%a "$KUBE_WORKER_WORKSPACE"; touch "$KUBE_WORKER_WORKSPACE/made-here" && echo wrote; [ "$HOME" = "$KUBE_WORKER_WORKSPACE" ] && echo home',
        ),
        { uids: { first: 2_100_000_200, last: 2_100_000_200 } },
      );
      expect(outcome.exitCode).toBe(0);
      // No supplementary group of the executor's either.
      expect(stdout).toEqual(['2100000200', '2100000200', '2100000200', '2100000200:700', 'wrote', 'home']);
    });

    it.each([
      ['bash', 'bash', 'cd ~ && pwd >/dev/null && echo ok'],
      ['sh', 'sh', 'cd ~ && echo ok'],
      [
        'python',
        'python',
        'import os, pathlib, tempfile\nassert pathlib.Path.home() == pathlib.Path(os.environ["KUBE_WORKER_WORKSPACE"])\ntempfile.TemporaryFile().close()\nprint("ok")',
      ],
    ] as const)('runs %s scripts as a user with no passwd entry', async (_name, syntax, body) => {
      const { outcome, stdout } = await run({ script: { syntax, body } }, { uids: { first: 2_100_000_201, last: 2_100_000_201 } });
      expect(outcome.exitCode).toBe(0);
      expect(stdout).toEqual(['ok']);
    });

    it('runs every script as one user when one is configured', async () => {
      const { stdout } = await run(bash('id -u; id -g'), { user: { uid: 65534, gid: 65534 } });
      expect(stdout).toEqual(['65534', '65534']);
    });

    it("refuses to start when it cannot run a process as the range's users, naming the setting", async () => {
      const workDir = await mkdtemp(path.join(os.tmpdir(), 'kw-range-'));
      await expect(LocalRuntime.start({ workDir, baseEnv: BASE_ENV, uids: { first: 4_294_967_295, last: 4_294_967_295 } })).rejects.toThrow(
        /KUBE_WORKER_LOCAL_UIDS/,
      );
    });

    it("gives the script nothing of the executor's environment", async () => {
      const { stdout } = await run(bash('env | cut -d= -f1 | sort'));
      expect(stdout.filter((name) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(name))).toEqual([
        'HOME',
        'KUBE_WORKER_TICKET',
        'KUBE_WORKER_WORKSPACE',
        'LANG',
        'PATH',
      ]);
    });

    it("keeps the executor's environ and its API token file from the script", async () => {
      const stateDir = await mkdtemp(path.join(os.tmpdir(), 'kw-state-'));
      const { token, file } = await ensureToken(path.join(stateDir, '.kube-worker'));
      const { outcome, lines } = await run(bash(`cat /proc/${process.pid}/environ && echo READ-ENVIRON; cat ${file} && echo READ-TOKEN; exit 0`));
      expect(outcome.exitCode).toBe(0);
      const texts = lines.map((l) => l.text);
      expect(texts).not.toContain('READ-ENVIRON');
      expect(texts).not.toContain('READ-TOKEN');
      expect(texts.join('\n')).not.toContain(token);
      expect(texts.join('\n')).not.toContain('REDIS');
      expect(texts.some((t) => /environ: Permission denied/.test(t))).toBe(true);
    });

    it('refuses to start when its user cannot reach the work dir, saying which folder is in the way', async () => {
      const closed = await mkdtemp(path.join(os.tmpdir(), 'kw-closed-'));
      await expect(LocalRuntime.start({ workDir: path.join(closed, 'work'), baseEnv: BASE_ENV })).rejects.toThrow(new RegExp(`${closed} .*mode 0?700`));
    });
  });

  describe("with the caller's variables", () => {
    it("finds the interpreter with the executor's PATH, and gives the script the caller's", async () => {
      const { outcome, stdout } = await run(bash('echo "path=$PATH"', { PATH: '/nonexistent' }));
      expect(outcome).toMatchObject({ exitCode: 0 });
      expect(stdout).toEqual(['path=/nonexistent']);
    });

    it('never passes LD_PRELOAD, and says so', async () => {
      const { outcome, stdout, lines } = await run(bash('echo "preload=${LD_PRELOAD-unset}"', { LD_PRELOAD: '/nonexistent/evil.so' }));
      expect(outcome.exitCode).toBe(0);
      expect(stdout).toEqual(['preload=unset']);
      expect(lines).toContainEqual({ stream: 'system', text: expect.stringMatching(/LD_PRELOAD.*not passed/) });
    });

    it("keeps the product's own variables, whatever the caller sets", async () => {
      const { stdout, lines } = await run(bash('echo "$KUBE_WORKER_TICKET"', { KUBE_WORKER_TICKET: 'someone-else' }));
      expect(stdout).toEqual(['local-test']);
      expect(lines).toContainEqual({ stream: 'system', text: expect.stringMatching(/KUBE_WORKER_TICKET.*not passed/) });
    });

    it.each([
      ['a name with =', { 'A=B': 'x' }, /"A=B"/],
      ['an empty name', { '': 'x' }, /empty name/],
    ])('fails, without starting the script, for %s', async (_case, variables, message) => {
      const { outcome, stdout } = await run(bash('echo started', variables));
      expect(outcome.failure).toMatchObject({ reason: 'RuntimeError', message: expect.stringMatching(message) });
      expect(stdout).toEqual([]);
    });

    it('fails for a value containing NUL, naming the variable and never showing the value', async () => {
      const { outcome } = await run({
        script: { syntax: 'bash', body: 'echo started' },
        variables: { SECRET: { value: 'top\0secret-value', sensitive: true } },
      });
      expect(outcome.failure).toMatchObject({ reason: 'RuntimeError', message: expect.stringMatching(/SECRET.*NUL/) });
      expect(JSON.stringify(outcome)).not.toMatch(/secret-value|top/);
    });
  });

  it('cuts an over-long line and says so', async () => {
    const { lines } = await run(bash('head -c 100000 /dev/zero | tr "\\0" x; echo'));
    expect(lines[0]).toEqual({ stream: 'stdout', text: 'x'.repeat(64 * 1024) });
    expect(lines[1]).toEqual({ stream: 'system', text: `The line above was truncated: ${100000 - 64 * 1024} of its 100000 bytes are not stored` });
  });

  it("leaves the work dir reachable but not listable by the script's user", async () => {
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'kw-open-'));
    const { stdout } = await run(bash(`ls ${workDir} >/dev/null 2>&1 || echo cannot-list; cd "$KUBE_WORKER_WORKSPACE" && echo can-enter`), { workDir });
    expect(stdout).toEqual(['cannot-list', 'can-enter']);
  });
});
