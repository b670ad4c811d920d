/**
 * Warm script pods, the pure parts: which operations fit one, the warm Job (nothing of any
 * operation in it), the claim patch, and the payload — run here by sh through the very wrapper a
 * warm pod waits in, with the pod's paths moved under a temporary folder.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OperationRequest } from '../../core/contract/operation.js';
import { readConfig } from '../../core/config.js';
import { EndMarkerReader } from '../../executor/kubernetes/end-marker.js';
import { buildScriptJob } from '../../executor/kubernetes/job-spec.js';
import { OPERATION_DIR, TMP_DIR, WORKSPACE_DIR } from '../../executor/kubernetes/launcher.js';
import {
  buildWarmJob,
  claimPatch,
  fitsWarmPod,
  TERMINATION_LOG,
  UNDELIVERED_EXIT,
  UNDELIVERED_NOTE,
  WARM_WRAPPER,
  warmPayload,
} from '../../executor/kubernetes/warm-pod-spec.js';

const operation = (extra: Partial<OperationRequest> = {}): OperationRequest => ({ pool: 'default', script: { syntax: 'bash', body: 'echo hi' }, ...extra });
const settings = readConfig({ KUBE_WORKER_INSTANCE: 'kw', KUBE_WORKER_SCRIPT_HTTP_PROXY: 'http://proxy:3128' });

describe('which operations a warm pod takes', () => {
  it.each<[string, OperationRequest, boolean]>([
    [
      'a script with files, variables and arguments',
      operation({ files: [{ name: 'a', content: '' }], variables: { A: { value: '1' } }, arguments: ['x'] }),
      true,
    ],
    ['its own image', operation({ container: { image: 'alpine:3' } }), false],
    ['packages', operation({ packages: [{ name: 'web', url: 'https://f/x.zip', sha256: '0'.repeat(64), extract: 'zip' }] as never }), false],
    ['a request of its own', operation({ resources: { requests: { cpu: '1' } } }), false],
    ['a limit of its own', operation({ resources: { limits: { memory: '64Mi' } } }), false],
    ['empty resources', operation({ resources: {} }), true],
    ['a service account of its own', operation({ serviceAccountName: 'deployer' }), false],
  ])('%s: %s', (_case, request, fits) => {
    expect(fitsWarmPod(request)).toBe(fits);
  });
});

describe('a warm Job', () => {
  const job = buildWarmJob('abc123', 'default', 'owner-1', 600, settings);
  const cold = buildScriptJob('t-1', operation(), 600, settings).job;
  const pod = job.spec!.template.spec!;
  const container = pod.containers[0]!;

  it('is the cold Job of a default operation, minus the operation: no Secret, no ticket, waiting on a stdin one session may write', () => {
    expect(job.metadata!.labels).toMatchObject({ 'kube-worker/warm': 'idle', 'kube-worker/instance': 'kw', 'kube-worker/pool': 'default' });
    expect(job.metadata!.labels).not.toHaveProperty('kube-worker/ticket');
    expect(job.metadata!.annotations).toEqual({ 'kube-worker/warm-owner': 'owner-1' });
    expect(job.spec!.template.metadata!.labels).not.toHaveProperty('kube-worker/ticket');
    expect(job.spec).toMatchObject({ suspend: false, backoffLimit: 0, activeDeadlineSeconds: 1200 });
    expect(pod.volumes).toContainEqual({ name: 'operation', emptyDir: { medium: 'Memory' } });
    expect(JSON.stringify(pod.volumes)).not.toContain('secret');
    expect(container).toMatchObject({ command: ['/bin/sh', '-c', WARM_WRAPPER], stdin: true, stdinOnce: true });
    expect(container.env!.map((v) => v.name)).not.toContain('KUBE_WORKER_TICKET');
    expect(container.env!.some((v) => v.valueFrom)).toBe(false);
  });

  it('keeps everything else of the cold pod: image, resources, security, mounts, proxies', () => {
    const coldContainer = cold.spec!.template.spec!.containers[0]!;
    for (const key of ['image', 'imagePullPolicy', 'resources', 'securityContext', 'workingDir'] as const) expect(container[key]).toEqual(coldContainer[key]);
    // The same mounts, the operation's writable: the payload writes it, once.
    expect(container.volumeMounts).toEqual(
      coldContainer.volumeMounts!.map((m) => (m.name === 'operation' ? { name: 'operation', mountPath: m.mountPath } : m)),
    );
    expect(container.env).toEqual(coldContainer.env!.filter((v) => v.name !== 'KUBE_WORKER_TICKET'));
    const { containers: _a, volumes: _b, ...rest } = pod;
    const { containers: _c, volumes: _d, ...coldRest } = cold.spec!.template.spec!;
    expect(rest).toEqual(coldRest);
  });
});

describe('claiming a warm Job', () => {
  it('requires it idle, labels it with the ticket and gives it the operation’s timeout from now', () => {
    expect(claimPatch('deploy/42', 30.2, 600)).toEqual([
      { op: 'test', path: '/metadata/labels/kube-worker~1warm', value: 'idle' },
      { op: 'replace', path: '/metadata/labels/kube-worker~1warm', value: 'bound' },
      { op: 'add', path: '/metadata/labels/kube-worker~1ticket', value: 'deploy-42' },
      { op: 'add', path: '/metadata/annotations/kube-worker~1ticket', value: 'deploy/42' },
      { op: 'replace', path: '/spec/activeDeadlineSeconds', value: 631 },
    ]);
  });
});

describe('the payload, through the wrapper', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'kw-warm-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const HEREDOC = /(<<'KUBE_WORKER_EOF'\n)([^\n]*)(\nKUBE_WORKER_EOF)/g;

  /** Runs the wrapper with `input` on its stdin, the pod's folders moved under a temporary one. */
  function run(input: Buffer | ((dir: string) => Buffer)): { lines: string[]; code: number | null; message?: string } {
    const dir = mkdtempSync(path.join(root, 'pod-'));
    for (const sub of ['op', 'ws', 'tmp']) mkdirSync(path.join(dir, sub));
    const move = (text: string): string =>
      text
        .replaceAll(OPERATION_DIR, `${dir}/op`)
        .replaceAll(WORKSPACE_DIR, `${dir}/ws`)
        .replaceAll(TMP_DIR, `${dir}/tmp`)
        .replaceAll(TERMINATION_LOG, `${dir}/termination-log`);
    const result = spawnSync('/bin/sh', ['-c', move(WARM_WRAPPER)], { input: typeof input === 'function' ? input(dir) : input, encoding: 'utf8', cwd: dir });
    const message = existsSync(`${dir}/termination-log`) ? readFileSync(`${dir}/termination-log`, 'utf8') : undefined;
    return { lines: result.stdout.split('\n').slice(0, -1), code: result.status, ...(message === undefined ? {} : { message }) };
  }

  /** The payload with its paths moved too (inside its base64 files as well), framed again. */
  const relocated =
    (ticket: string, request: OperationRequest) =>
    (dir: string): Buffer => {
      const framed = warmPayload(ticket, request).toString();
      const body = framed.slice(framed.indexOf('\n') + 1);
      const move = (text: string): string =>
        text.replaceAll(OPERATION_DIR, `${dir}/op`).replaceAll(WORKSPACE_DIR, `${dir}/ws`).replaceAll(TMP_DIR, `${dir}/tmp`);
      const moved = move(body).replace(
        HEREDOC,
        (_m, open: string, b64: string, close: string) => open + Buffer.from(move(Buffer.from(b64, 'base64').toString())).toString('base64') + close,
      );
      return Buffer.from(`${Buffer.byteLength(moved)}\n${moved}`);
    };

  it('runs the operation as a cold pod would: files, variables (quotes and = in values), arguments, stderr apart, the exit code', () => {
    const request = operation({
      script: {
        syntax: 'bash',
        body: 'cat sub/data.txt; echo "$Version $KUBE_WORKER_TICKET"; env | grep -c "^MY_VAR=it.s=x$"; echo "args: $*"; echo oops >&2; exit 5',
      },
      files: [{ name: 'sub/data.txt', content: Buffer.from('from a file\n').toString('base64') }],
      variables: { Version: { value: '1.2.3' }, MY_VAR: { value: "it's=x", sensitive: true } },
      arguments: ['a b', "c'd"],
    });
    const { lines, code } = run(relocated('t-42', request));
    expect(code).toBe(5);
    const reader = new EndMarkerReader(true);
    const reads = lines.map((l) => (l.startsWith('\u001e') ? { kind: 'line', text: `stderr:${l.slice(1)}` } : reader.read(l)));
    expect(reads.filter((r) => r.kind === 'line').map((r) => (r as { text: string }).text)).toEqual([
      'from a file',
      '1.2.3 t-42',
      '1',
      "args: a b c'd",
      'stderr:oops',
    ]);
    expect(reads.at(-1)).toMatchObject({ kind: 'end', exit: { exitCode: 5 } });
  });

  it('runs nothing of a payload cut short, or of none at all, and says so with its own code and termination message', () => {
    const whole = warmPayload('t-1', operation({ script: { syntax: 'bash', body: 'echo ran' } }));
    const undelivered = { lines: [], code: UNDELIVERED_EXIT, message: UNDELIVERED_NOTE };
    expect(run(whole.subarray(0, whole.length - 10))).toEqual(undelivered);
    expect(run(Buffer.from('not a length\necho ran\n'))).toEqual(undelivered);
    expect(run(Buffer.alloc(0))).toEqual(undelivered);
  });

  it("leaves the termination message alone when the script exits with the wrapper's code itself", () => {
    const { code, message } = run(relocated('t-1', operation({ script: { syntax: 'bash', body: `exit ${UNDELIVERED_EXIT}` } })));
    expect({ code, message }).toEqual({ code: UNDELIVERED_EXIT, message: undefined });
  });

  it('holds nothing of the operation in clear but its frame: files and script are base64, values are single-quoted arguments of env', () => {
    const text = warmPayload('t-1', operation({ script: { syntax: 'bash', body: 'echo SCRIPT-BODY' } })).toString();
    expect(text).not.toContain('SCRIPT-BODY');
  });
});
