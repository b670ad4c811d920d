/**
 * `npm run bench:cli`: how long the built CLI (`dist/cli/main.js`, what `npx kube-worker` runs)
 * takes to start, against `node -e 0` in the same run, and how soon `submit true --wait` returns
 * after its operation has ended.
 *
 * Start-up: each round runs `node -e 0`, `kube-worker --help`, `kube-worker --version` and
 * `kube-worker status <ticket>` (a client command answered with 404 by a private server), in turns
 * that alternate direction each round; wall time is measured around each process and its peak
 * memory (max RSS) taken from GNU time. Medians over the rounds.
 *
 * submit --wait: against a private stack (`kube-worker start` with its own private Redis, in a
 * temporary state directory), the time from the operation's `finishedAt` (written by the executor)
 * to the CLI process's exit, and the whole command's wall time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { printCircumstances, row } from './support/report.js';
import { fixed, median } from './support/stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const CLI = path.resolve(import.meta.dirname, '../dist/cli/main.js');
const TOKEN = 'bench-cli-token-0123456789';
const GNU_TIME = '/usr/bin/time';

interface Sample {
  ms: number;
  maxRssMb: number;
}

/** Runs one process to its end under GNU time: wall time measured here, peak memory from time's %M. */
function measure(args: string[], env: NodeJS.ProcessEnv): Sample {
  const started = performance.now();
  const result = spawnSync(GNU_TIME, ['-f', 'maxrss=%M', process.execPath, ...args], { env, encoding: 'utf8' });
  const ms = performance.now() - started;
  const rss = /maxrss=(\d+)/.exec(result.stderr)?.[1];
  if (!rss) throw new Error(`no figure from ${GNU_TIME} for ${args.join(' ')}: ${result.stderr}`);
  return { ms, maxRssMb: Number(rss) / 1024 };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startStack(stateDir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [CLI, 'start'], {
    env: {
      PATH: process.env.PATH,
      HOME: os.tmpdir(),
      PORT: String(port),
      KUBE_WORKER_API_TOKEN: TOKEN,
      KUBE_WORKER_STATE_DIR: stateDir,
      KUBE_WORKER_RUNTIME: 'local',
      KUBE_WORKER_WORK_DIR: path.join(stateDir, 'work'),
      KUBE_WORKER_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('kube-worker start did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function submitWait(env: NodeJS.ProcessEnv, url: string, ticket: string): Promise<{ afterEndMs: number; wallMs: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, 'submit', 'true', '--ticket', ticket, '--wait'], { env, stdio: 'ignore' });
  const [code] = await once(child, 'exit');
  const exitedAt = Date.now();
  if (code !== 0) throw new Error(`submit --wait exited ${code}`);
  const status = (await (await fetch(`${url}/api/v1/operations/${ticket}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
    timings: { finishedAt: string };
  };
  return { afterEndMs: exitedAt - Date.parse(status.timings.finishedAt), wallMs: exitedAt - started };
}

async function main(): Promise<void> {
  printCircumstances('kube-worker CLI start-up', { BENCH_ROUNDS: ROUNDS, cli: path.relative(process.cwd(), CLI) });
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'kw-bench-cli-'));
  // Run as root, the local runtime runs scripts as nobody, who must be able to pass through here.
  chmodSync(stateDir, 0o711);
  const stack = await startStack(stateDir);
  const env = { PATH: process.env.PATH, KUBE_WORKER_URL: stack.url, KUBE_WORKER_API_TOKEN: TOKEN };
  const variants: Array<[string, string[]]> = [
    ['node -e 0', ['-e', '0']],
    ['kube-worker --help', [CLI, '--help']],
    ['kube-worker --version', [CLI, '--version']],
    ['kube-worker status (404)', [CLI, 'status', 'no-such-ticket']],
  ];
  const samples = new Map<string, Sample[]>(variants.map(([name]) => [name, []]));
  const waits: Array<{ afterEndMs: number; wallMs: number }> = [];
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const [name, args] of order) samples.get(name)!.push(measure(args, env));
      waits.push(await submitWait(env, stack.url, `bench-cli-${round}-${Date.now()}`));
    }
  } finally {
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  const baseline = samples.get('node -e 0')!;
  const [baseMs, baseRss] = [median(baseline.map((s) => s.ms)), median(baseline.map((s) => s.maxRssMb))];
  const widths = [28, 12, 14, 14, 16];
  console.log(row(['command', 'wall ms', '+ms vs node', 'max RSS MB', '+MB vs node'], widths));
  for (const [name] of variants) {
    const list = samples.get(name)!;
    const [ms, rss] = [median(list.map((s) => s.ms)), median(list.map((s) => s.maxRssMb))];
    console.log(row([name, fixed(ms, 0), fixed(ms - baseMs, 0), fixed(rss, 1), fixed(rss - baseRss, 1)], widths));
  }
  console.log('');
  console.log(row(['submit true --wait', 'median', 'max'], widths));
  console.log(
    row(['  exit after the end, ms', fixed(median(waits.map((w) => w.afterEndMs)), 0), fixed(Math.max(...waits.map((w) => w.afterEndMs)), 0)], widths),
  );
  console.log(row(['  whole command, ms', fixed(median(waits.map((w) => w.wallMs)), 0), fixed(Math.max(...waits.map((w) => w.wallMs)), 0)], widths));
}

await main();
