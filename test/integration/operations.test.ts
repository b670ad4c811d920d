import { describe, expect, it } from 'vitest';
import { b64, bash, setVariable, useStack } from './support/stack.js';

describe('operations through the HTTP API', () => {
  const stack = useStack();

  it('runs a script and returns every line in order with sequences from 1', async () => {
    const ticket = await stack.submit(bash('for i in $(seq 1 50); do echo "line $i"; done'));
    const status = await stack.waitUntilDone(ticket);
    expect(status.state).toBe('succeeded');
    expect(status.exitCode).toBe(0);
    const seqs = status.logs.map((l) => l.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const stdout = status.logs.filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(stdout).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i + 1}`));
    expect(status.timings.startedAt).toBeDefined();
    expect(status.timings.finishedAt).toBeDefined();
  });

  it('reads the log incrementally with afterSequence and limit', async () => {
    const ticket = await stack.submit(bash('for i in 1 2 3 4 5; do echo $i; done'));
    const all = await stack.waitUntilDone(ticket);
    const first = (await stack.api('GET', `/api/v1/operations/${ticket}?afterSequence=0&limit=2`)).body;
    expect(first.logs.map((l: { seq: number }) => l.seq)).toEqual([1, 2]);
    const rest = (await stack.api('GET', `/api/v1/operations/${ticket}?afterSequence=${first.nextSequence}&limit=100`)).body;
    expect(rest.logs[0].seq).toBe(3);
    expect(rest.nextSequence).toBe(all.logs.at(-1)!.seq);
    const none = (await stack.api('GET', `/api/v1/operations/${ticket}?afterSequence=${rest.nextSequence}`)).body;
    expect(none.logs).toEqual([]);
    expect(none.nextSequence).toBe(rest.nextSequence);
  });

  it('keeps stdout and stderr apart', async () => {
    const status = await stack.waitUntilDone(await stack.submit(bash('echo out; echo err >&2')));
    expect(status.logs.find((l) => l.text === 'out')?.stream).toBe('stdout');
    expect(status.logs.find((l) => l.text === 'err')?.stream).toBe('stderr');
  });

  it('reports the script exit code and ScriptFailed when it fails', async () => {
    const status = await stack.waitUntilDone(await stack.submit(bash('echo before; exit 3')));
    expect(status.state).toBe('failed');
    expect(status.exitCode).toBe(3);
    expect(status.failure).toEqual({ reason: 'ScriptFailed', message: 'The script exited with code 3' });
  });

  it('passes arguments, variables and files to the script', async () => {
    const status = await stack.waitUntilDone(
      await stack.submit(
        bash('echo "args: $*"; echo "var: $GREETING"; cat config/app.json', {
          arguments: ['--flag', 'two words'],
          variables: { GREETING: { value: 'hello' } },
          files: [{ name: 'config/app.json', content: b64('{"a":1}') }],
        }),
      ),
    );
    const text = status.logs.map((l) => l.text);
    expect(text).toContain('args: --flag two words');
    expect(text).toContain('var: hello');
    expect(text).toContain('{"a":1}');
  });

  it('runs sh and python scripts', async () => {
    const sh = await stack.waitUntilDone(await stack.submit({ script: { syntax: 'sh', body: 'echo from-sh' } }));
    expect(sh.logs.map((l) => l.text)).toContain('from-sh');
    const py = await stack.waitUntilDone(await stack.submit({ script: { syntax: 'python', body: 'import sys\nprint("from-python")\nsys.exit(4)' } }));
    expect(py.logs.map((l) => l.text)).toContain('from-python');
    expect(py.exitCode).toBe(4);
  });

  it('turns setVariable service messages into output variables and masks every sensitive value', async () => {
    const status = await stack.waitUntilDone(
      await stack.submit(
        bash(
          [
            'echo "password is $DB_PASSWORD"',
            setVariable('Version', '1.2.3'),
            setVariable('ApiKey', 'key-abc-987', true),
            'echo "the key is key-abc-987"',
            'echo "##octopus[stdout-warning]"',
          ].join('\n'),
          { variables: { DB_PASSWORD: { value: 's3cr3t-pass', sensitive: true }, PLAIN: { value: 'visible' } } },
        ),
      ),
    );
    expect(status.state).toBe('succeeded');
    expect(status.outputVariables).toEqual({
      Version: { value: '1.2.3', sensitive: false },
      ApiKey: { value: 'key-abc-987', sensitive: true },
    });
    const text = status.logs.map((l) => l.text).join('\n');
    expect(text).toContain('password is ********');
    expect(text).toContain('the key is ********');
    expect(text).not.toContain('s3cr3t-pass');
    expect(text).not.toContain('key-abc-987');
    expect(text).not.toContain('setVariable');
    expect(text).toContain('##octopus[stdout-warning]');
  });

  it('answers a retry with the same body with 200 and the current state, and another body with 409', async () => {
    const operation = { pool: 'default', ticket: 'retry-ticket-1', ...bash('echo once') };
    const first = await stack.api('POST', '/api/v1/operations', operation);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ ticket: 'retry-ticket-1', state: 'queued' });
    await stack.waitUntilDone('retry-ticket-1');
    const again = await stack.api('POST', '/api/v1/operations', operation);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ticket: 'retry-ticket-1', state: 'succeeded' });
    const other = await stack.api('POST', '/api/v1/operations', { ...operation, ...bash('echo different') });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('KW_ERR_TICKET_CONFLICT');
    const status = await stack.waitUntilDone('retry-ticket-1');
    expect(status.logs.filter((l) => l.text === 'once')).toHaveLength(1);
  });

  it('releases logs and result on DELETE, after which the ticket is 404 and can be used again', async () => {
    const ticket = await stack.submit(bash('echo bye', { ticket: 'release-me' }));
    await stack.waitUntilDone(ticket);
    expect((await stack.api('DELETE', `/api/v1/operations/${ticket}`)).status).toBe(204);
    const gone = await stack.api('GET', `/api/v1/operations/${ticket}`);
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('KW_ERR_NOT_FOUND');
    expect((await stack.api('DELETE', `/api/v1/operations/${ticket}`)).status).toBe(404);
    const reused = await stack.submit(bash('echo again', { ticket: 'release-me' }));
    expect((await stack.waitUntilDone(reused)).logs.map((l) => l.text)).toContain('again');
  });

  it('refuses to release an operation that is still running', async () => {
    const ticket = await stack.submit(bash('sleep 5'));
    await stack.waitForState(ticket, ['running']);
    const response = await stack.api('DELETE', `/api/v1/operations/${ticket}`);
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('KW_ERR_NOT_FINISHED');
    await stack.api('POST', `/api/v1/operations/${ticket}/cancel`);
    await stack.waitUntilDone(ticket);
  });

  it('fails an operation whose timeout passes with -44 DeadlineExceeded', async () => {
    const status = await stack.waitUntilDone(await stack.submit(bash('echo start; sleep 30', { timeoutSeconds: 1 })));
    expect(status.state).toBe('failed');
    expect(status.exitCode).toBe(-44);
    expect(status.failure?.reason).toBe('DeadlineExceeded');
    expect(status.logs.map((l) => l.text)).toContain('start');
  });

  it('kills what a finished script left running in the background', async () => {
    const status = await stack.waitUntilDone(await stack.submit(bash('sleep 300 & echo started')));
    expect(status.state).toBe('succeeded');
  });

  it('reports its pools and executors on /api/v1/worker', async () => {
    const { status, body } = await stack.api('GET', '/api/v1/worker');
    expect(status).toBe(200);
    expect(body.pools).toEqual(['default']);
    expect(body.healthy).toBe(true);
    expect(body.executors).toHaveLength(1);
    expect(body.executors[0]).toMatchObject({ runtime: 'local', pools: ['default'] });
  });

  it('is alive on /healthz and ready on /readyz without a token', async () => {
    expect((await stack.api('GET', '/healthz', undefined, null)).status).toBe(200);
    expect((await stack.api('GET', '/readyz', undefined, null)).body).toEqual({ status: 'ready' });
  });
});
