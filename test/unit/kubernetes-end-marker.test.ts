/**
 * The launcher's seal and end line: the end is taken only from the line that reveals the key this
 * run's seal committed to; anything else that looks like it is the script's output.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EndMarkerReader, type MarkerRead } from '../../executor/kubernetes/end-marker.js';
import { launcherScript, OPERATION_DIR, TMP_DIR, WORKSPACE_DIR } from '../../executor/kubernetes/launcher.js';

const KEY = '0123456789abcdef0123456789abcdef';
const OTHER_KEY = 'ffffffffffffffffffffffffffffffff';
const sealOf = (key: string): string => `\u001fkube-worker seal ${createHash('sha256').update(key).digest('hex')}`;
const endOf = (key: string, code = 0, oom = '0'): string => `\u001fkube-worker end ${code} ${oom} ${key}`;

const readAll = (fromStart: boolean, lines: string[]): MarkerRead[] => {
  const reader = new EndMarkerReader(fromStart);
  return lines.map((line) => reader.read(line));
};
const skip = { kind: 'skip' };
const line = (text: string) => ({ kind: 'line', text });
const end = (exitCode: number, oomKills: number | undefined, before = '') => ({ kind: 'end', exit: { exitCode, oomKills }, before });

describe('reading the launcher’s end line', () => {
  it.each<[string, boolean, string[], unknown[]]>([
    ['the seal, a line, the end', true, [sealOf(KEY), 'hello', endOf(KEY)], [skip, line('hello'), end(0, 0)]],
    ['an exit code and OOM kills', true, [sealOf(KEY), endOf(KEY, 137, '2')], [skip, end(137, 2)]],
    ['OOM kills that could not be read', true, [sealOf(KEY), endOf(KEY, 0, 'unknown')], [skip, end(0, undefined)]],
    ['a last line without a newline, joined to the end line', true, [sealOf(KEY), `partial${endOf(KEY, 3)}`], [skip, end(3, 0, 'partial')]],
    ['lines after the end (background processes): not output', true, [sealOf(KEY), endOf(KEY), 'late'], [skip, end(0, 0), skip]],
    ['an end line whose key does not match the seal: output', true, [sealOf(KEY), endOf(OTHER_KEY), endOf(KEY)], [skip, line(endOf(OTHER_KEY)), end(0, 0)]],
    [
      'a replay of another run’s log (seal and end): output',
      true,
      [sealOf(KEY), sealOf(OTHER_KEY), endOf(OTHER_KEY, 0), 'still running'],
      [skip, line(sealOf(OTHER_KEY)), line(endOf(OTHER_KEY, 0)), line('still running')],
    ],
    [
      'a seal that is not the first line: output',
      true,
      ['first', sealOf(OTHER_KEY), endOf(OTHER_KEY)],
      [line('first'), line(sealOf(OTHER_KEY)), line(endOf(OTHER_KEY))],
    ],
    ['no seal (no od or sha256sum in the image): every line is output', true, ['a', endOf(KEY)], [line('a'), line(endOf(KEY))]],
    ['a malformed end line: output', true, [sealOf(KEY), `\u001fkube-worker end x 0 ${KEY}`], [skip, line(`\u001fkube-worker end x 0 ${KEY}`)]],
    [
      'an adopted run (read from a cursor): the launcher’s end line is left out, never trusted',
      false,
      ['more', `tail${endOf(KEY, 0)}`, endOf(KEY, 0)],
      [line('more'), line('tail'), skip],
    ],
  ])('%s', (_case, fromStart, lines, expected) => {
    expect(readAll(fromStart, lines)).toEqual(expected);
  });
});

describe('the launcher, run by sh', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'kw-launcher-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** The launcher with its pod paths moved under a temporary folder, run by /bin/sh: its stdout lines and exit code. */
  function runLauncher(body: string, replace: (script: string) => string = (s) => s): { lines: string[]; code: number } {
    const dir = mkdtempSync(path.join(root, 'run-'));
    for (const sub of ['op/files', 'ws', 'tmp']) mkdirSync(path.join(dir, sub), { recursive: true });
    writeFileSync(path.join(dir, 'op/script'), body);
    const launcher = replace(
      launcherScript({ pool: 'default', script: { syntax: 'bash', body } })
        .replaceAll(OPERATION_DIR, `${dir}/op`)
        .replaceAll(WORKSPACE_DIR, `${dir}/ws`)
        .replaceAll(TMP_DIR, `${dir}/tmp`),
    );
    writeFileSync(path.join(dir, 'launcher.sh'), launcher);
    try {
      return {
        lines: execFileSync('/bin/sh', [path.join(dir, 'launcher.sh')], { encoding: 'utf8' })
          .split('\n')
          .slice(0, -1),
        code: 0,
      };
    } catch (error) {
      const failed = error as { stdout: string; status: number };
      return { lines: failed.stdout.split('\n').slice(0, -1), code: failed.status };
    }
  }

  it('prints a seal first and an end line last that the reader takes, with the exit code it exits with', () => {
    const { lines, code } = runLauncher('echo first-line\nprintf partial\nexit 3\n');
    expect(code).toBe(3);
    const reads = readAll(true, lines);
    expect(reads[0]).toEqual(skip);
    expect(reads.slice(1)).toEqual([line('first-line'), { kind: 'end', exit: { exitCode: 3, oomKills: expect.anything() }, before: 'partial' }]);
  });

  it('gives the script nothing of its key: an end line the script prints with what it can see is output', () => {
    const { lines } = runLauncher('env | grep -c kw_ || true\nprintf "\\037kube-worker end 0 0 %s\\n" "$kw_key"\nexit 1\n');
    const reads = readAll(true, lines);
    expect(reads.slice(1)).toEqual([
      line('0'),
      line('\u001fkube-worker end 0 0 '),
      expect.objectContaining({ kind: 'end', exit: expect.objectContaining({ exitCode: 1 }) }),
    ]);
  });

  it('prints neither without sha256sum, and exits with the script’s code', () => {
    const { lines, code } = runLauncher('echo hi\nexit 4\n', (s) => s.replace('sha256sum', 'kw-no-such-command'));
    expect(code).toBe(4);
    expect(lines).toEqual(['hi']);
  });
});
