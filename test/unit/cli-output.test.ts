import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { statusTable } from '../../cli/commands/inspect.js';
import { formatDuration, timelineLines } from '../../cli/timeline-view.js';
import { COMMANDS, commandUsage, usage } from '../../cli/command-table.js';
import { bashCompletion, zshCompletion } from '../../cli/completion.js';
import type { OperationStatus } from '../../core/contract/status.js';

const NOW = Date.parse('2026-11-30T05:00:00Z');
const operation = (fields: Partial<OperationStatus>): OperationStatus => ({
  ticket: 't',
  pool: 'default',
  state: 'queued',
  logs: [],
  nextSequence: 0,
  timings: { queuedAt: '2026-11-30T04:59:00Z' },
  timeline: { accepted: '2026-11-30T04:59:00Z', queued: '2026-11-30T04:59:00Z' },
  ...fields,
});

describe('kube-worker status as a table', () => {
  it('shows one row per operation: exit code, reason, age and how long it ran', () => {
    expect(
      statusTable(
        [
          operation({
            ticket: 'deploy-42',
            state: 'failed',
            exitCode: -44,
            failure: { reason: 'Unschedulable', message: 'no node' },
            timings: { queuedAt: '2026-11-30T04:00:00Z', startedAt: '2026-11-30T04:00:05Z', finishedAt: '2026-11-30T04:15:05Z' },
          }),
          operation({ ticket: 'runbook-7', pool: 'gpu', state: 'running', timings: { queuedAt: '2026-11-30T04:59:50Z', startedAt: '2026-11-30T04:59:52Z' } }),
          operation({ ticket: 'q', state: 'queued' }),
        ],
        NOW,
      ),
    ).toBe(
      [
        'TICKET     POOL     STATE    EXIT CODE  REASON         AGE    DURATION',
        'deploy-42  default  failed   -44        Unschedulable  1h00m  15m00s',
        'runbook-7  gpu      running  -          -              10s    8s',
        'q          default  queued   -          -              1m00s  -',
        '',
      ].join('\n'),
    );
  });
});

describe('kube-worker status: the timeline', () => {
  it.each<[number, string]>([
    [0, '0ms'],
    [7.4, '7ms'],
    [999, '999ms'],
    [1000, '1.00s'],
    [1254, '1.25s'],
    [59_994, '59.99s'],
    [245_000, '4m05s'],
    [3_720_000, '1h02m'],
    [-3, '0ms'],
  ])('writes %s ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('shows each moment of a Kubernetes run as the time since the one before, the image pull with how long it took, and the total', () => {
    expect(
      timelineLines({
        accepted: '2026-12-06T10:00:01.018Z',
        queued: '2026-12-06T10:00:01.020Z',
        picked: '2026-12-06T10:00:01.112Z',
        jobCreated: '2026-12-06T10:00:01.161Z',
        podScheduled: '2026-12-06T10:00:01.204Z',
        imagePulled: '2026-12-06T10:00:03.950Z',
        imagePullSeconds: 2.71,
        started: '2026-12-06T10:00:04.310Z',
        firstLine: '2026-12-06T10:00:04.402Z',
        scriptEnded: '2026-12-06T10:01:09.402Z',
        recorded: '2026-12-06T10:01:09.450Z',
      }),
    ).toEqual([
      'accepted               2026-12-06T10:00:01.018Z',
      'queued                 +2ms',
      'picked by an executor  +92ms',
      'Job created            +49ms',
      'pod scheduled          +43ms',
      'image pulled           +2.75s     pulled in 2.71s',
      'started                +360ms',
      'first line             +92ms',
      'script ended           +1m05s',
      'result recorded        +48ms      1m08s in all',
    ]);
  });

  it('shows the moments a local run has, a clock a little behind as 0ms, and an image already on the node as such', () => {
    expect(
      timelineLines({
        accepted: '2026-12-06T10:00:01.018Z',
        queued: '2026-12-06T10:00:01.020Z',
        picked: '2026-12-06T10:00:01.010Z',
        started: '2026-12-06T10:00:01.150Z',
      }),
    ).toEqual([
      'accepted               2026-12-06T10:00:01.018Z',
      'queued                 +2ms',
      'picked by an executor  +0ms',
      'started                +140ms     132ms in all',
    ]);
    expect(
      timelineLines({
        accepted: '2026-12-06T10:00:01.018Z',
        queued: '2026-12-06T10:00:01.020Z',
        imagePulled: '2026-12-06T10:00:01.518Z',
        imagePullSeconds: 0,
      }),
    ).toEqual(['accepted      2026-12-06T10:00:01.018Z', 'queued        +2ms', 'image pulled  +498ms     image on the node already, 500ms in all']);
  });
});

describe('help', () => {
  it('lists every command, and each command its options', () => {
    for (const command of COMMANDS) {
      expect(usage()).toMatch(new RegExp(`^ {2}${command.name}\\b.*${command.summary.replace(/[()|.*+?[\]]/g, '\\$&')}$`, 'm'));
      for (const option of Object.keys(command.options)) expect(commandUsage(command)).toContain(`--${option}`);
    }
  });
});

/** What bash offers after the words typed so far (the last one being completed). */
function bashOffers(...words: string[]): string[] {
  const script = `${bashCompletion()}\nCOMP_WORDS=(kube-worker ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; _kube_worker; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', script], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

describe('shell completion', () => {
  it("bash completes commands, a command's options, and option values", () => {
    expect(bashOffers('')).toEqual([...COMMANDS.map((c) => c.name), '--help', '--version'].sort());
    expect(bashOffers('st')).toEqual(['start', 'status']);
    expect(bashOffers('submit', 'echo hi', '--w')).toEqual(['--wait']);
    expect(bashOffers('status', 't-1', '--')).toEqual(['--help', '--output']);
    expect(bashOffers('status', 't-1', '--output', '')).toEqual(['json', 'table']);
    expect(bashOffers('submit', 'x', '--syntax', 'p')).toEqual(['powershell', 'python']);
    expect(bashOffers('completion', '')).toEqual(['bash', 'zsh']);
  });

  it('zsh offers every command and every option of each', () => {
    const zsh = zshCompletion();
    expect(zsh.startsWith('#compdef kube-worker\n')).toBe(true);
    for (const command of COMMANDS) {
      expect(zsh).toContain(`'${command.name}:`);
      expect(zsh).toContain(`    ${command.name})\n      _arguments`);
      for (const option of Object.keys(command.options)) expect(zsh).toMatch(new RegExp(`'\\*?--${option}\\[`));
    }
  });
});

describe('the README exit code table', () => {
  it('lists every exit code the CLI uses, with nothing else', async () => {
    const { EXIT } = await import('../../cli/exit-codes.js');
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('<!-- exit-codes:start -->'), readme.indexOf('<!-- exit-codes:end -->'));
    const documented = [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(documented.sort((a, b) => a - b)).toEqual(Object.values(EXIT).sort((a, b) => a - b));
  });
});
