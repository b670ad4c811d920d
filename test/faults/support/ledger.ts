/**
 * What became of the operations a fault test submitted: read back every accepted ticket until it
 * is final (or a deadline passes), count each script's runs from the marker file the scripts append
 * their ticket to, and put it in figures: submitted, ended, repeated, lost.
 */
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { call } from './client.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * A file every script of the test appends its ticket to. Made here, writable by all: each running
 * operation may be a user of its own, and a file the first script made would refuse the others'
 * lines, so runs would go uncounted.
 */
export async function markerFile(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kw-faults-runs-'));
  await chmod(dir, 0o1777);
  const file = path.join(dir, 'runs');
  await writeFile(file, '');
  await chmod(file, 0o666);
  return file;
}

/** A bash operation that counts its run in `marker`, then works for `seconds`. */
export const countedOperation =
  (marker: string, seconds: number) =>
  (ticket: string): Record<string, unknown> => ({
    pool: 'default',
    script: { syntax: 'bash', body: `echo ${ticket} >> ${marker}\nsleep ${seconds}\necho done` },
  });

export interface Figures {
  /** Operations answered 202 (or 200 on a retry of the same body). */
  submitted: number;
  /** Of those, how many the server reads back in a final state. */
  ended: number;
  /** Scripts that ran more than once. */
  repeated: number;
  /** Accepted operations that never reached a final state (or that the server no longer knows). */
  lost: number;
  /** Scripts that ran although their operation was never accepted. */
  ranUnaccepted: number;
  /** Final outcomes: "succeeded", "failed ExecutorLost", … → count. */
  outcomes: Record<string, number>;
  /** A few of the lost ones with what the server said last. */
  lostExamples: string[];
}

/**
 * `timeoutMs` is how long the operations may go without one of them ending: an operation still
 * unfinished then is stuck, not slow (a loaded machine runs them slowly, but they keep ending).
 */
export async function settle(dispatcherUrl: string, accepted: Set<string>, marker: string, timeoutMs: number): Promise<Figures> {
  const last = new Map<string, string>();
  const ended = new Map<string, string>();
  let deadline = Date.now() + timeoutMs;
  while (ended.size < accepted.size && Date.now() < deadline) {
    const endedBefore = ended.size;
    const pending = [...accepted].filter((t) => !ended.has(t));
    for (let i = 0; i < pending.length; i += 16) {
      await Promise.all(
        pending.slice(i, i + 16).map(async (ticket) => {
          const outcome = await call(dispatcherUrl, 'GET', `/api/v1/operations/${ticket}?limit=1`);
          if (outcome.kind !== 'answer') return void last.set(ticket, outcome.kind);
          const body = outcome.body as { state?: string; failure?: { reason?: string } };
          last.set(ticket, `${outcome.status} ${body.state ?? JSON.stringify(body).slice(0, 200)}`);
          if (outcome.status === 200 && body.state && FINAL.has(body.state)) ended.set(ticket, [body.state, body.failure?.reason].filter(Boolean).join(' '));
        }),
      );
    }
    if (ended.size > endedBefore) deadline = Date.now() + timeoutMs;
    if (ended.size < accepted.size) await new Promise((r) => setTimeout(r, 500));
  }
  const runs = new Map<string, number>();
  const text = await readFile(marker, 'utf8').catch(() => '');
  for (const ticket of text.split('\n').filter(Boolean)) runs.set(ticket, (runs.get(ticket) ?? 0) + 1);
  const outcomes: Record<string, number> = {};
  for (const outcome of ended.values()) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  const lost = [...accepted].filter((t) => !ended.has(t));
  return {
    submitted: accepted.size,
    ended: ended.size,
    repeated: [...runs.values()].filter((n) => n > 1).length,
    lost: lost.length,
    ranUnaccepted: [...runs.keys()].filter((t) => !accepted.has(t)).length,
    outcomes,
    lostExamples: lost.slice(0, 5).map((t) => `${t}: ${last.get(t)}`),
  };
}

/** When the first operation started after `after` (ms), read back from the operations' timings. */
export async function firstStartAfter(dispatcherUrl: string, tickets: Iterable<string>, after: number): Promise<number | undefined> {
  let first: number | undefined;
  const all = [...tickets];
  for (let i = 0; i < all.length; i += 16) {
    await Promise.all(
      all.slice(i, i + 16).map(async (ticket) => {
        const outcome = await call(dispatcherUrl, 'GET', `/api/v1/operations/${ticket}?limit=1`);
        const startedAt = outcome.kind === 'answer' ? Date.parse((outcome.body as { timings?: { startedAt?: string } }).timings?.startedAt ?? '') : NaN;
        if (startedAt > after && (first === undefined || startedAt < first)) first = startedAt;
      }),
    );
  }
  return first;
}
