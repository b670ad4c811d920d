import { describe, expect, it } from 'vitest';
import { EXECUTOR_RULES, executorRules } from '../../executor/kubernetes/permissions.js';

const grants = (group: string, resource: string, verb: string): boolean =>
  EXECUTOR_RULES.some((rule) => (rule.apiGroups ?? ['']).includes(group) && rule.resources?.includes(resource) && rule.verbs.includes(verb));

describe("the executor's Role", () => {
  // Each verb the executor uses, and where: nothing more is granted.
  it.each([
    ['batch', 'jobs', 'create', 'a Job per operation (kubernetes-runtime)'],
    ['batch', 'jobs', 'get', 'adopting the Job of a redelivered operation'],
    ['batch', 'jobs', 'list', 'the Job informer and the sweeper'],
    ['batch', 'jobs', 'watch', 'the Job informer'],
    ['batch', 'jobs', 'patch', 'resuming the Job once its Secret exists'],
    ['batch', 'jobs', 'delete', 'release, cancel and the sweeper'],
    ['', 'pods', 'list', 'the pod informer'],
    ['', 'pods', 'watch', 'the pod informer'],
    ['', 'pods', 'delete', 'cancel'],
    ['', 'pods/log', 'get', 'following the script log'],
    ['', 'secrets', 'create', "the operation's Secret"],
    ['', 'events', 'list', 'the event informer'],
    ['', 'events', 'watch', 'the event informer'],
    ['authorization.k8s.io', 'selfsubjectaccessreviews', 'create', 'the permissions preflight'],
  ])('grants %s/%s %s for %s', (group, resource, verb) => {
    expect(grants(group, resource, verb)).toBe(true);
  });

  it('grants nothing else: no reading of Secrets, no reading of pods one by one', () => {
    const granted = EXECUTOR_RULES.flatMap((rule) =>
      rule.resources!.flatMap((resource) => rule.verbs.map((verb) => `${rule.apiGroups![0]}/${resource} ${verb}`)),
    );
    expect(granted.sort()).toEqual(
      [
        '/events list',
        '/events watch',
        '/pods delete',
        '/pods list',
        '/pods watch',
        '/pods/log get',
        '/secrets create',
        'authorization.k8s.io/selfsubjectaccessreviews create',
        'batch/jobs create',
        'batch/jobs delete',
        'batch/jobs get',
        'batch/jobs list',
        'batch/jobs patch',
        'batch/jobs watch',
      ].sort(),
    );
    for (const verb of ['get', 'list', 'watch', 'delete']) expect(grants('', 'secrets', verb), `secrets ${verb}`).toBe(false);
    expect(grants('', 'pods', 'get')).toBe(false);
  });

  it('grows by exactly pods/attach get and create with warm pods (sending a warm pod its operation), and not without', () => {
    expect(executorRules(0)).toEqual(EXECUTOR_RULES);
    expect(executorRules(2).slice(EXECUTOR_RULES.length)).toEqual([{ apiGroups: [''], resources: ['pods/attach'], verbs: ['get', 'create'] }]);
  });
});
