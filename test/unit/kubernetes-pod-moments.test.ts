import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FETCH_CONTAINER, SCRIPT_CONTAINER } from '../../executor/kubernetes/names.js';
import { eventMoment, podBound, pulledIn, scriptEnded } from '../../executor/kubernetes/pod-moments.js';
import { pod } from './support/script-pod.js';

const scheduled = (p: V1Pod, status: 'True' | 'False' = 'True'): V1Pod => ({
  ...p,
  status: { ...p.status, conditions: [{ type: 'PodScheduled', status, lastTransitionTime: new Date(0) }] },
});

const pulled = (message: string, container = SCRIPT_CONTAINER, reason = 'Pulled'): CoreV1Event => ({
  metadata: { uid: 'e-1' },
  involvedObject: { kind: 'Pod', name: 'kw-a-1', fieldPath: `spec.containers{${container}}` },
  reason,
  message,
});

describe("a run's Kubernetes moments", () => {
  it.each<[string, V1Pod, string[]]>([
    ['a pod not bound yet', scheduled(pod('Pending'), 'False'), []],
    ['a pod bound to a node, its image still pulling', scheduled(pod('Pending', { waiting: { reason: 'ContainerCreating' } })), ['podScheduled']],
    ['a running script', scheduled(pod('Running', { running: {} })), ['podScheduled']],
    ['a script that ended', scheduled(pod('Succeeded', { terminated: { exitCode: 0 } })), ['podScheduled', 'scriptEnded']],
    ['a packages download that ended, the script not started', scheduled(pod('Pending', undefined, { terminated: { exitCode: 0 } })), ['podScheduled']],
  ])('reads %s', (_case, p, moments) => {
    expect([podBound(p), scriptEnded(p)].filter((m) => m !== undefined).map((m) => m.name)).toEqual(moments);
  });

  it.each<[string, string, number | undefined]>([
    ['a pull with its wait', 'Successfully pulled image "registry:5000/script-tools:1" in 2.71s (2.71s including waiting). Image size: 2160406 bytes.', 2.71],
    ['an older kubelet', 'Successfully pulled image "busybox" in 1.153069823s', 1.153],
    ['a quick pull', 'Successfully pulled image "busybox" in 512.3ms (600ms including waiting)', 0.512],
    ['a long pull', 'Successfully pulled image "big" in 2m3.5s (2m3.5s including waiting)', 123.5],
    ['an image on the node', 'Container image "busybox" already present on machine', 0],
    ['an unknown message', 'Pulled something', undefined],
  ])("takes how long the pull took from %s's message", (_case, message, seconds) => {
    expect(pulledIn(message)).toBe(seconds);
  });

  it("reports the script image's pull only, with how long it took", () => {
    expect(eventMoment(pulled('Successfully pulled image "x" in 4s (4s including waiting)'))).toEqual({ name: 'imagePulled', pullSeconds: 4 });
    expect(eventMoment(pulled('Container image "x" already present on machine'))).toEqual({ name: 'imagePulled', pullSeconds: 0 });
    expect(
      eventMoment({ ...pulled('Successfully pulled image "kw" in 4s'), involvedObject: { kind: 'Pod', fieldPath: `spec.initContainers{${FETCH_CONTAINER}}` } }),
    ).toBe(undefined);
    expect(eventMoment(pulled('Pulling image "x"', SCRIPT_CONTAINER, 'Pulling'))).toBe(undefined);
  });
});
