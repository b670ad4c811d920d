/**
 * Warm script pods (pure): a Job whose pod starts with nothing of any operation and waits on its
 * stdin; which operations may use one; the patch that binds one to an operation; and what is sent
 * to it then.
 *
 * A warm Job is the cold Job of an operation with the default image and resources, minus the
 * operation: no Secret, no ticket, and an in-memory emptyDir where the operation's Secret volume
 * would be. Its container runs the waiting wrapper with `stdin` and `stdinOnce`: the first attach
 * session is the only one that can ever write to it — the container runtime closes stdin for good
 * when that session ends — so a warm pod takes at most one operation, whoever attaches after.
 *
 * Binding: the executor first claims the Job with a JSON patch whose `test` op requires it still
 * idle (the API server applies it atomically: of two executors, one gets 422), which labels it with
 * the ticket and sets its deadline to the operation's timeout from now; then it attaches and sends
 * the payload. The payload is a shell script, framed by its length, that writes the launcher, the
 * script and the files where a cold pod has them (/kube-worker/operation), and runs the same
 * launcher with the variables in its environment — so output, exit code, OOM kill, cancel and
 * timeout behave as in a cold pod. Nothing of the operation is ever in the pod's spec, environment
 * or log.
 */
import type { V1Container, V1Job } from '@kubernetes/client-node';
import type { OperationRequest } from '../../core/contract/operation.js';
import { buildScriptJob, type ScriptPodSettings } from './job-spec.js';
import { LAUNCHER_KEY, launcherScript, OPERATION_DIR, SCRIPT_KEY } from './launcher.js';
import { ANNOTATION_TICKET, jobName, LABEL_TICKET, ticketLabel } from './names.js';

/** `idle` until an operation claims it, `bound` after. */
export const LABEL_WARM = 'kube-worker/warm';
/** Which executor keeps the warm pod (its pool); never empty, so the Job always has annotations to patch. */
export const ANNOTATION_WARM_OWNER = 'kube-worker/warm-owner';
/** The wrapper's exit code when the operation did not reach it whole: nothing of it ran. */
export const UNDELIVERED_EXIT = 86;
/**
 * What the wrapper writes to its termination message then, beside its exit code: a script may exit
 * 86 too, and only the wrapper, which never ran one, says this (pod-state.ts tells them apart by it).
 */
export const UNDELIVERED_NOTE = 'kube-worker: the operation did not arrive whole';
/** The container's termination message file (Kubernetes' default terminationMessagePath). */
export const TERMINATION_LOG = '/dev/termination-log';

const PAYLOAD = `${OPERATION_DIR}/payload.sh`;

/**
 * The waiting wrapper: read the payload's length, then exactly that many bytes, and run them; a
 * payload cut short runs nothing.
 */
export const WARM_WRAPPER = [
  `undelivered() { printf '%s' '${UNDELIVERED_NOTE}' > ${TERMINATION_LOG}; exit ${UNDELIVERED_EXIT}; }`,
  'IFS= read -r size || undelivered',
  "case $size in ''|*[!0-9]*) undelivered ;; esac",
  `head -c "$size" > ${PAYLOAD}`,
  `[ "$(wc -c < ${PAYLOAD})" -eq "$size" ] || undelivered`,
  `exec /bin/sh ${PAYLOAD}`,
].join('\n');

/** Whether an operation can run in a warm pod: everything its pod would have is the default. */
export function fitsWarmPod(request: OperationRequest): boolean {
  const resources = request.resources;
  const ownResources = Object.keys(resources?.requests ?? {}).length > 0 || Object.keys(resources?.limits ?? {}).length > 0;
  return !request.container?.image && !(request.packages?.length ?? 0) && !ownResources && !request.serviceAccountName;
}

/** The name of a warm Job: its own id in place of a ticket. */
export const warmJobName = (instance: string, id: string): string => jobName(instance, `warm-${id}`);

/**
 * A warm Job for `pool`, kept by `owner`. Its deadline is a safety net for a warm pod whose
 * executor is gone (its own executor replaces it at `maxAgeSeconds`); binding sets the real one.
 */
export function buildWarmJob(id: string, pool: string, owner: string, maxAgeSeconds: number, settings: ScriptPodSettings): V1Job {
  const cold = buildScriptJob(`warm-${id}`, { pool, script: { syntax: 'sh', body: '' } }, 2 * maxAgeSeconds, settings).job;
  const strip = (map: Record<string, string> | undefined, key: string): Record<string, string> =>
    Object.fromEntries(Object.entries(map ?? {}).filter(([k]) => k !== key));
  const labels = { ...strip(cold.metadata!.labels, LABEL_TICKET), [LABEL_WARM]: 'idle' };
  const annotations = { ...strip(cold.metadata!.annotations, ANNOTATION_TICKET), [ANNOTATION_WARM_OWNER]: owner };
  const pod = cold.spec!.template.spec!;
  const script = pod.containers[0]!;
  const container: V1Container = {
    ...script,
    command: ['/bin/sh', '-c', WARM_WRAPPER],
    env: script.env!.filter((v) => v.name !== 'KUBE_WORKER_TICKET'),
    // Written once, by the payload, where a cold pod has the operation's Secret mounted read-only.
    volumeMounts: script.volumeMounts!.map((m) => (m.name === 'operation' ? { name: m.name, mountPath: m.mountPath } : m)),
    stdin: true,
    stdinOnce: true,
  };
  return {
    ...cold,
    metadata: { ...cold.metadata, labels, annotations },
    spec: {
      ...cold.spec!,
      suspend: false,
      template: {
        metadata: {
          labels: strip(cold.spec!.template.metadata!.labels, LABEL_TICKET),
          annotations: strip(cold.spec!.template.metadata!.annotations, ANNOTATION_TICKET),
        },
        spec: {
          ...pod,
          containers: [container],
          // In memory, as the Secret volume it stands for: what the payload writes never reaches the node's disk.
          volumes: pod.volumes!.map((v) => (v.name === 'operation' ? { name: 'operation', emptyDir: { medium: 'Memory' } } : v)),
        },
      },
    },
  };
}

/**
 * The patch that binds an idle warm Job to an operation: it fails (422) unless the Job is still
 * idle, so one operation at most ever claims it. The Job's deadline counts from its start, long
 * before the bind: the operation's timeout is added to the time already gone.
 */
export function claimPatch(ticket: string, elapsedSeconds: number, timeoutSeconds: number): object[] {
  const warm = `/metadata/labels/${LABEL_WARM.replace('/', '~1')}`;
  return [
    { op: 'test', path: warm, value: 'idle' },
    { op: 'replace', path: warm, value: 'bound' },
    { op: 'add', path: `/metadata/labels/${LABEL_TICKET.replace('/', '~1')}`, value: ticketLabel(ticket) },
    { op: 'add', path: `/metadata/annotations/${ANNOTATION_TICKET.replace('/', '~1')}`, value: ticket },
    { op: 'replace', path: '/spec/activeDeadlineSeconds', value: Math.max(1, Math.ceil(elapsedSeconds)) + timeoutSeconds },
  ];
}

const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;
const HEREDOC = 'KUBE_WORKER_EOF';

/** `base64 -d` of a value into a file, from a here-document (base64 never holds its delimiter line). */
const writeFile = (path: string, base64: string): string => `base64 -d > ${quote(path)} <<'${HEREDOC}'\n${base64}\n${HEREDOC}`;

/** What is sent to a warm pod's stdin: the payload's length, a newline, and the payload. */
export function warmPayload(ticket: string, request: OperationRequest): Buffer {
  const files = request.files ?? [];
  const dirs = [...new Set(files.map((f) => f.name.split('/').slice(0, -1).join('/')).filter((d) => d !== ''))];
  const env = [['KUBE_WORKER_TICKET', ticket] as const, ...Object.entries(request.variables ?? {}).map(([name, v]) => [name, v.value] as const)];
  const script = [
    `rm -f ${PAYLOAD}`,
    `mkdir -p ${OPERATION_DIR}/files${dirs.map((d) => ` ${quote(`${OPERATION_DIR}/files/${d}`)}`).join('')} || exit 70`,
    writeFile(`${OPERATION_DIR}/${LAUNCHER_KEY}`, Buffer.from(launcherScript(request)).toString('base64')),
    writeFile(`${OPERATION_DIR}/${SCRIPT_KEY}`, Buffer.from(request.script.body).toString('base64')),
    ...files.map((file) => writeFile(`${OPERATION_DIR}/files/${file.name}`, file.content)),
    // env(1) takes any name a pod's environment does (dots and dashes too); stdin is the attach's, not the script's.
    `exec env ${env.map(([name, value]) => quote(`${name}=${value}`)).join(' ')} /bin/sh ${OPERATION_DIR}/${LAUNCHER_KEY} </dev/null`,
    '',
  ].join('\n');
  const body = Buffer.from(script);
  return Buffer.concat([Buffer.from(`${body.length}\n`), body]);
}
