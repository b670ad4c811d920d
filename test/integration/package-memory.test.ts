/**
 * A 500 MB package fetched by the local runtime while the executor's memory stays flat: the feed
 * runs in a process of its own and makes the bytes on the fly, so the resident set measured here
 * is the executor's (this process), against a baseline taken in the same test after a small fetch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generatedSha256 } from '../support/package-server.js';
import { bash, startStack, type Stack } from './support/stack.js';

const MiB = 1024 * 1024;
const BIG = 500 * 1000 * 1000;
/** What streaming may add over the baseline: buffers, sockets, the hash; far below the package. */
const ALLOWED_GROWTH = 80 * MiB;

let feed: ChildProcess;
let feedUrl: string;
let stack: Stack;

beforeAll(async () => {
  feed = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../support/package-server.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [first] = (await once(feed.stdout!, 'data')) as [Buffer];
  feedUrl = first.toString().trim();
  stack = await startStack({ env: { KUBE_WORKER_PACKAGE_SOURCES: `${feedUrl}/generated/,${feedUrl}/paused/` } });
});
afterAll(async () => {
  await stack?.close();
  feed?.kill();
});

/** `paused`: a pause halfway makes the download outlast the progress interval on any machine. */
const fetchGenerated = async (bytes: number, route: 'generated' | 'paused' = 'generated'): Promise<string[]> => {
  const ticket = await stack.submit(
    bash(`wc -c < "$KUBE_WORKER_PACKAGE_BLOB/${bytes}"`, { packages: [{ name: 'blob', url: `${feedUrl}/${route}/${bytes}`, sha256: generatedSha256(bytes) }] }),
  );
  const status = await stack.waitUntilDone(ticket, 300_000);
  const lines = status.logs.map((l) => `${l.stream}:${l.text}`);
  expect(status.state, lines.join('\n')).toBe('succeeded');
  expect(lines).toContain(`stdout:${bytes}`);
  return lines;
};

it("a 500 MB package is downloaded with the executor's memory flat", async () => {
  await fetchGenerated(5 * MiB); // warms up everything a download uses
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  let lines: string[];
  try {
    lines = await fetchGenerated(BIG, 'paused');
  } finally {
    clearInterval(sampler);
  }
  const growth = peak - baseline;
  process.stderr.write(
    `[package-memory] 500 MB package: rss baseline ${Math.round(baseline / MiB)} MiB, peak ${Math.round(peak / MiB)} MiB, growth ${Math.round(growth / MiB)} MiB (allowed ${ALLOWED_GROWTH / MiB} MiB)\n`,
  );
  expect(growth).toBeLessThan(ALLOWED_GROWTH);
  expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^system:Downloaded package blob: 477 MiB in .* SHA-256 verified$/)]));
  // A long download says how far it has got (every second in tests, every 5 s by default).
  expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^system:Downloading package blob: \d+ MiB of 477 MiB \(\d+%\), .*\/s$/)]));
}, 600_000);
