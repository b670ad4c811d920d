import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { EventsByJob } from '../../executor/kubernetes/events-by-job.js';

const event = (uid: string, kind: 'Job' | 'Pod', name: string, count = 1): k8s.CoreV1Event => ({
  metadata: { uid },
  involvedObject: { kind, name },
  count,
});
const uids = (events: k8s.CoreV1Event[]): string[] => events.map((e) => `${e.metadata!.uid}#${e.count}`);

describe('the events filed by the Job they concern', () => {
  it('gives a Job its own events, in the order they were first seen, an update in place', () => {
    const index = new EventsByJob();
    index.put(event('a', 'Job', 'kw-1'), 'kw-1');
    index.put(event('b', 'Pod', 'kw-1-abcde'), 'kw-1');
    index.put(event('c', 'Job', 'kw-2'), 'kw-2');
    index.put(event('a', 'Job', 'kw-1', 2), 'kw-1');
    expect(uids(index.of('kw-1'))).toEqual(['a#2', 'b#1']);
    expect(uids(index.of('kw-2'))).toEqual(['c#1']);
    expect(index.of('kw-3')).toEqual([]);
  });

  it('forgets an event the API server deleted, and one about no Job', () => {
    const index = new EventsByJob();
    index.put(event('a', 'Job', 'kw-1'), 'kw-1');
    index.put(event('b', 'Job', 'kw-1'), 'kw-1');
    index.remove(event('a', 'Job', 'kw-1'));
    index.put(event('b', 'Job', 'kw-1', 2), undefined);
    index.remove(event('never-seen', 'Job', 'kw-1'));
    expect(index.of('kw-1')).toEqual([]);
  });

  it("moves a pod's events to its Job once the pod says which Job it is (a long name cut short)", () => {
    const index = new EventsByJob();
    const cut = 'kw-a-long-ticket-cut-short-by-the-pod-name-generator-abc';
    index.put(event('scheduled', 'Pod', `${cut}xyzwv`), cut);
    index.put(event('other', 'Pod', `${cut}qqqqq`), cut);
    expect(uids(index.refile(`${cut}xyzwv`, cut, 'kw-the-whole-job-name'))).toEqual(['scheduled#1']);
    expect(uids(index.of('kw-the-whole-job-name'))).toEqual(['scheduled#1']);
    expect(uids(index.of(cut))).toEqual(['other#1']);
    index.remove(event('scheduled', 'Pod', `${cut}xyzwv`));
    expect(index.of('kw-the-whole-job-name')).toEqual([]);
  });
});
