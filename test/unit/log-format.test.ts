import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../core/config.js';
import { prettyLine } from '../../core/log-pretty.js';
import { createLogger, lineStyle } from '../../core/logger.js';

// eslint-disable-next-line no-control-regex -- colour codes are what is checked
const COLOUR = /\x1b\[/;
const terminal = (fd: number): boolean => fd === 1;
const notTerminal = (): boolean => false;

describe('how log lines look', () => {
  it.each([
    ['auto', 1, terminal, { pretty: true, colour: true }],
    ['auto', 1, notTerminal, { pretty: false, colour: false }],
    ['auto', '/var/log/kw.log', terminal, { pretty: false, colour: false }],
    ['json', 1, terminal, { pretty: false, colour: true }],
    ['pretty', 1, notTerminal, { pretty: true, colour: false }],
    ['pretty', 1, terminal, { pretty: true, colour: true }],
  ] as const)('%s to %s (%s): %o', (format, destination, isTerminal, expected) => {
    expect(lineStyle(format, destination, isTerminal, {})).toEqual(expected);
  });

  it('leaves colour out when NO_COLOR is set and not empty', () => {
    expect(lineStyle('pretty', 1, terminal, { NO_COLOR: '1' })).toEqual({ pretty: true, colour: false });
    expect(lineStyle('auto', 1, terminal, { NO_COLOR: '' })).toEqual({ pretty: true, colour: true });
  });

  it('reads KUBE_WORKER_LOG_FORMAT, auto by default, and refuses other words', () => {
    expect(readConfig({}).logFormat).toBe('auto');
    expect(readConfig({ KUBE_WORKER_LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(() => readConfig({ KUBE_WORKER_LOG_FORMAT: 'yaml' })).toThrow(/KUBE_WORKER_LOG_FORMAT must be auto, json or pretty, not "yaml"/);
  });

  it('shows time, level, message and the other fields, nested ones flattened', () => {
    const time = new Date(2026, 10, 30, 4, 5, 6, 7).getTime();
    const line = JSON.stringify({
      level: 40,
      time,
      pid: 1,
      hostname: 'h',
      service: 'kube-worker',
      name: 'kube-worker',
      msg: 'slow request',
      req: { method: 'GET', url: '/api/v1/queues' },
      reason: 'two words',
      pools: ['a', 'b'],
    });
    expect(prettyLine(line, false)).toBe('04:05:06.007 WARN  slow request req.method=GET req.url=/api/v1/queues reason="two words" pools=["a","b"]\n');
  });

  it("prints an error's stack under its line", () => {
    const line = JSON.stringify({
      level: 50,
      time: 0,
      msg: 'error during shutdown',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at close (x.js:1:1)' },
    });
    expect(prettyLine(line, false)).toMatch(/ERROR error during shutdown\n {4}Error: boom\n {8}at close \(x\.js:1:1\)\n$/);
  });

  it('shows the control characters of a message, a field and a stack instead of sending them to the terminal', () => {
    const line = JSON.stringify({
      level: 50,
      time: 0,
      msg: 'failed \x1b[2K\r',
      ticket: 'a\x1b[1Ab',
      err: { message: 'x', stack: 'Error: quoted \x1b]0;t\x07\n    at y' },
    });
    const pretty = prettyLine(line, false);
    expect(pretty).toMatch(/ERROR failed \^\[\[2K\^M ticket=a\^\[\[1Ab\n {4}Error: quoted \^\[\]0;t\^G\n {8}at y\n$/);
    // eslint-disable-next-line no-control-regex -- no control character may be left but the newlines
    expect(pretty).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });

  it('colours the level only when asked to', () => {
    const line = JSON.stringify({ level: 30, time: 0, msg: 'ready' });
    expect(prettyLine(line, true)).toMatch(COLOUR);
    expect(prettyLine(line, true)).toContain('\x1b[32mINFO ');
    expect(prettyLine(line, false)).not.toMatch(COLOUR);
  });
});

describe('redaction, in either format', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kw-log-format-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['json', 'pretty'] as const)('never writes a token, password or secret variable (%s)', async (format) => {
    const file = path.join(dir, `${format}.log`);
    const logger = createLogger('info', 'test', file, format);
    logger.info({ req: { headers: { authorization: 'Bearer tok-AAAA1111' } } }, 'request');
    logger.info({ apiTokens: ['tok-BBBB2222'], redisUrl: 'redis://:pw-CCCC3333@redis:6379' }, 'settings');
    logger.info({ request: { variables: { DB: { value: 'pw-DDDD4444', sensitive: true } }, script: { body: 'echo pw-EEEE5555' } } }, 'submitted');
    logger.warn({ variables: { DB: { value: 'pw-FFFF6666' } }, files: [{ content: 'pw-GGGG7777' }], password: 'pw-HHHH8888' }, 'operation');
    logger.flush();
    // The file is written asynchronously: wait for the four lines rather than for a guessed time.
    await expect.poll(() => readFileSync(file, 'utf8').split('\n').filter(Boolean).length).toBe(4);
    const written = readFileSync(file, 'utf8');
    expect(written).toContain('[redacted]');
    for (const secret of ['AAAA1111', 'BBBB2222', 'CCCC3333', 'DDDD4444', 'EEEE5555', 'FFFF6666', 'GGGG7777', 'HHHH8888'])
      expect(written).not.toContain(secret);
    if (format === 'pretty') expect(written).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}request req\.headers\.authorization=\[redacted\]$/m);
    else expect(JSON.parse(written.split('\n')[0]!)).toMatchObject({ msg: 'request', req: { headers: { authorization: '[redacted]' } } });
  });
});
