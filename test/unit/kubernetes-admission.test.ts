import type { CoreV1Event } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podRefusal } from '../../executor/kubernetes/admission.js';

const jobEvent = (reason: string, message: string, kind = 'Job'): CoreV1Event => ({
  metadata: { name: 'e' },
  involvedObject: { kind, name: 'kw-deploy-1-0a1b2c3d' },
  reason,
  message,
  type: 'Warning',
});

describe('a script pod the cluster refuses to admit', () => {
  it.each([
    [
      'a Pod Security violation',
      'Error creating: pods "kw-deploy-1-0a1b2c3d-x7k2p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "script" must set securityContext.allowPrivilegeEscalation=false)',
    ],
    ['a validating webhook', 'Error creating: admission webhook "policy.example.com" denied the request: images from docker.io are not allowed'],
    [
      'an invalid pod',
      'Error creating: Pod "kw-deploy-1-0a1b2c3d-x7k2p" is invalid: spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647',
    ],
    ['a policy that forbids it', 'Error creating: pods "kw-deploy-1-0a1b2c3d-x7k2p" is forbidden: unable to validate against any security context constraint'],
  ])('fails at once, with the reason Kubernetes gave, when it is refused by %s', (_case, message) => {
    expect(podRefusal(jobEvent('FailedCreate', message))).toBe(message);
  });

  it.each([
    [
      'a quota that may free up',
      'FailedCreate',
      'Error creating: pods "kw-x" is forbidden: exceeded quota: compute, requested: cpu=64, used: cpu=1, limited: cpu=8',
    ],
    [
      'a ServiceAccount not there yet',
      'FailedCreate',
      'Error creating: pods "kw-x" is forbidden: error looking up service account ns/deployer: serviceaccount "deployer" not found',
    ],
    ['a scheduling delay', 'FailedScheduling', '0/1 nodes are available: 1 Insufficient cpu.'],
    ['a pod was created', 'SuccessfulCreate', 'Created pod: kw-x'],
  ])('keeps waiting for %s', (_case, reason, message) => {
    expect(podRefusal(jobEvent(reason, message))).toBeUndefined();
  });

  it('reads only what the Job controller says about the Job', () => {
    expect(
      podRefusal(jobEvent('FailedCreate', 'Error creating: pods "x" is forbidden: violates PodSecurity "restricted:latest"', 'ReplicaSet')),
    ).toBeUndefined();
  });
});
