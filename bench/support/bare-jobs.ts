/**
 * The floor for the kubernetes runtime: a bare script that creates the very same Secrets and Jobs
 * with @kubernetes/client-node, all at once, and waits on one Job watch until every one has ended.
 */
import * as k8s from '@kubernetes/client-node';
import type { Config } from '../../core/config.js';
import { buildScriptJob } from '../../executor/kubernetes/job-spec.js';
import { instanceSelector } from '../../executor/kubernetes/names.js';
import { TRIVIAL_OPERATION } from './kubernetes-operation.js';

const ended = (job: k8s.V1Job): boolean => Boolean(job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True'));

/** Seconds from the first create to the last Job ending. */
export async function runBareJobs(kubeConfig: k8s.KubeConfig, namespace: string, config: Config, count: number, label: string): Promise<number> {
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
  const specs = Array.from({ length: count }, (_, i) => buildScriptJob(`${label}-${i}`, TRIVIAL_OPERATION, 600, config));
  const names = new Set(specs.map((s) => s.name));
  const done = new Set<string>();
  const labelSelector = instanceSelector(config.instance);
  const informer = k8s.makeInformer(
    kubeConfig,
    `/apis/batch/v1/namespaces/${namespace}/jobs`,
    () => batch.listNamespacedJob({ namespace, labelSelector }),
    labelSelector,
  );
  const allEnded = new Promise<void>((resolve) => {
    const check = (job: k8s.V1Job): void => {
      const name = job.metadata?.name ?? '';
      if (names.has(name) && ended(job)) done.add(name);
      if (done.size === names.size) resolve();
    };
    informer.on('add', check);
    informer.on('update', check);
  });
  await informer.start();
  const started = performance.now();
  await Promise.all(
    specs.map(async ({ job, secret }) => {
      // The floor: the Secret first and the Job unsuspended, two requests where the runtime makes three.
      await core.createNamespacedSecret({ namespace, body: secret });
      await batch.createNamespacedJob({ namespace, body: { ...job, spec: { ...job.spec!, suspend: false } } });
    }),
  );
  await allEnded;
  const seconds = (performance.now() - started) / 1000;
  await informer.stop();
  await Promise.all(
    specs.map(async ({ name }) => {
      await batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
      await core.deleteNamespacedSecret({ name, namespace });
    }),
  );
  return seconds;
}
