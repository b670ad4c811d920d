/**
 * A real OpenTelemetry Collector for the trace tests: test/otel/collector (the OTLP receiver and the
 * file exporter, from the collector's Go modules), built once per source into
 * ~/.cache/kube-worker/otelcol/<version>-<hash>/ under a machine-wide lock, then started on a
 * loopback port of its own per test file, writing what it receives to a JSON-lines file.
 *
 *   const collector = await startCollector();
 *   // … processes with OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint …
 *   const spans = await collector.spans();
 *   await collector.stop();
 *
 * Without Go the trace suites are skipped with the reason, except under CI=true, where that fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describeUnless } from '../support/describe-unless.js';
import { findGo, GoMissingError } from '../cluster/cluster.js';
import { freePort } from '../support/free-port.js';
import { tryLock, unlock } from '../support/pid-lock.js';

const SOURCE = join(import.meta.dirname, 'collector');
const CACHE = join(homedir(), '.cache', 'kube-worker', 'otelcol');

/** The release of the collector modules go.mod pins (all of them at one release). */
export const collectorVersion = (): string => {
  const match = /go\.opentelemetry\.io\/collector\/otelcol (v\S+)/.exec(readFileSync(join(SOURCE, 'go.mod'), 'utf8'));
  if (!match) throw new Error('test/otel/collector/go.mod pins no go.opentelemetry.io/collector/otelcol');
  return match[1]!;
};

function sourceHash(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(SOURCE).sort())
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(SOURCE, file)))
      .update('\0');
  return hash.digest('hex').slice(0, 12);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs a command with its output appended to `log`; resolves with its exit code. */
function run(command: string[], cwd: string, env: NodeJS.ProcessEnv, log: string): Promise<number | null> {
  const fd = openSync(log, 'a');
  const child = spawn(command[0]!, command.slice(1), { cwd, env, stdio: ['ignore', fd, fd] });
  return new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  }).finally(() => closeSync(fd));
}

/**
 * The collector's binary, built the first time (minutes on two cores), then found in the cache.
 * Asynchronous: the test worker that waits for it stays responsive.
 */
export async function collectorBinary(): Promise<string> {
  const dir = join(CACHE, `${collectorVersion()}-${sourceHash()}`);
  const binary = join(dir, 'otelcol-kw');
  if (existsSync(binary)) return binary;
  const go = findGo();
  const lock = join(CACHE, 'build.lock');
  for (const started = Date.now(); ; await sleep(2000)) {
    const attempt = tryLock(lock);
    if (attempt.taken) break;
    if (Date.now() - started > 30 * 60_000) throw new Error(`collector build lock ${lock} held by pid ${attempt.owner} for too long`);
  }
  try {
    if (existsSync(binary)) return binary;
    mkdirSync(dir, { recursive: true });
    const log = join(CACHE, 'build.log');
    const tmp = `${binary}.tmp-${process.pid}`;
    const started = Date.now();
    appendFileSync(log, `\n$ go build (${dir})\n`);
    try {
      const nice = existsSync('/usr/bin/nice') ? ['/usr/bin/nice', '-n', '10'] : [];
      const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly -buildvcs=false' };
      const code = await run([...nice, go, 'build', '-trimpath', '-ldflags', '-s -w', '-o', tmp, '.'], SOURCE, env, log);
      if (code !== 0) throw new Error(`building the collector failed; see ${log}:\n${readFileSync(log, 'utf8').split('\n').slice(-30).join('\n')}`);
      renameSync(tmp, binary);
    } finally {
      rmSync(tmp, { force: true });
    }
    appendFileSync(log, `built in ${Math.round((Date.now() - started) / 1000)} s\n`);
    // Builds of earlier sources are of no more use.
    for (const old of readdirSync(CACHE))
      if (old !== dirname(binary).split('/').at(-1) && /^v\d/.test(old)) rmSync(join(CACHE, old), { recursive: true, force: true });
    return binary;
  } finally {
    unlock(lock);
  }
}

let missing: string | undefined;

/** `describe` when the collector can be had; otherwise a skipped suite whose name carries the reason (never under CI=true). */
export function describeWithCollector(name: string, fn: () => void): void {
  try {
    findGo();
  } catch (error) {
    if (process.env.CI === 'true' || !(error instanceof GoMissingError)) throw error;
    missing = `no collector: ${error.message}`;
  }
  describeUnless(missing, name, fn);
}

/** One span as the file exporter writes it (OTLP JSON), with its resource's service.name and its attributes flattened. */
export interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  service: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, string | number | boolean>;
  status: { code?: number; message?: string };
  links: Array<{ traceId: string; spanId: string }>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
type OtlpAttributes = Array<{ key: string; value: OtlpValue }> | undefined;

const flatten = (attributes: OtlpAttributes): Record<string, string | number | boolean> =>
  Object.fromEntries(
    (attributes ?? []).map(({ key, value }) => [
      key,
      value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue ?? '')),
    ]),
  );

export interface Collector {
  /** The base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  /** The file it writes (one OTLP JSON document a line). */
  file: string;
  /** What the file holds, as it is. */
  text(): string;
  spans(): ExportedSpan[];
  stop(): Promise<void>;
}

export async function startCollector(): Promise<Collector> {
  const binary = await collectorBinary();
  const dir = mkdtempSync(join(tmpdir(), 'kube-worker-otelcol-'));
  const file = join(dir, 'traces.jsonl');
  const port = await freePort();
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      http:',
      `        endpoint: 127.0.0.1:${port}`,
      'exporters:',
      '  file:',
      `    path: ${file}`,
      '    format: json',
      '    flush_interval: 100ms',
      'service:',
      '  telemetry:',
      // Its own metrics would listen on a fixed port, which another test file's collector holds.
      '    metrics:',
      '      level: none',
      '  pipelines:',
      '    traces:',
      '      receivers: [otlp]',
      '      exporters: [file]',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(binary, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!output.includes('Everything is ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the collector did not start:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const text = (): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  return {
    endpoint: `http://127.0.0.1:${port}`,
    file,
    text,
    spans() {
      const spans: ExportedSpan[] = [];
      for (const line of text().split('\n')) {
        if (line.trim() === '') continue;
        const document = JSON.parse(line) as {
          resourceSpans?: Array<{ resource?: { attributes?: OtlpAttributes }; scopeSpans?: Array<{ spans?: Array<Record<string, any>> }> }>;
        };
        for (const resource of document.resourceSpans ?? []) {
          const service = String(flatten(resource.resource?.attributes)['service.name'] ?? '');
          for (const scope of resource.scopeSpans ?? [])
            for (const span of scope.spans ?? [])
              spans.push({
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId ?? '',
                name: span.name,
                kind: span.kind ?? 0,
                service,
                startTimeUnixNano: span.startTimeUnixNano,
                endTimeUnixNano: span.endTimeUnixNano,
                attributes: flatten(span.attributes),
                status: span.status ?? {},
                links: span.links ?? [],
              });
        }
      }
      return spans;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
