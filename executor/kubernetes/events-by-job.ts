/**
 * The namespace's events filed by the script Job they concern, so that a new subscription replays
 * its own Job's events without reading every event the namespace holds. The API server keeps
 * events for an hour: at scale that is thousands, and reading them all once per operation made each
 * operation cost more than the one before it.
 *
 * An event is filed under the Job its watcher names when it is seen (for a pod's event, the Job of
 * the pod as the watch knows it then); `refile` moves a pod's events once its Job is known better.
 * Events keep the order they were first seen in.
 */
import type * as k8s from '@kubernetes/client-node';

export class EventsByJob {
  private readonly byJob = new Map<string, Map<string, k8s.CoreV1Event>>();
  /** Event uid → the Job it is filed under. */
  private readonly jobOfEvent = new Map<string, string>();

  /** Files (or refreshes) an event under `job`; one about no Job of ours is not kept. */
  put(event: k8s.CoreV1Event, job: string | undefined): void {
    const uid = event.metadata?.uid;
    if (!uid) return;
    const filed = this.jobOfEvent.get(uid);
    if (filed !== undefined && filed !== job) this.remove(event);
    if (job === undefined) return;
    let events = this.byJob.get(job);
    if (!events) this.byJob.set(job, (events = new Map()));
    events.set(uid, event);
    this.jobOfEvent.set(uid, job);
  }

  remove(event: k8s.CoreV1Event): void {
    const uid = event.metadata?.uid;
    const job = uid === undefined ? undefined : this.jobOfEvent.get(uid);
    if (uid === undefined || job === undefined) return;
    this.jobOfEvent.delete(uid);
    const events = this.byJob.get(job);
    events?.delete(uid);
    if (events?.size === 0) this.byJob.delete(job);
  }

  /** Moves the events about pod `podName` filed under `from` to `to`, the pod's Job now known, and gives them. */
  refile(podName: string, from: string, to: string): k8s.CoreV1Event[] {
    const events = [...(this.byJob.get(from)?.values() ?? [])].filter((e) => e.involvedObject.kind === 'Pod' && e.involvedObject.name === podName);
    for (const event of events) this.put(event, to);
    return events;
  }

  of(job: string): k8s.CoreV1Event[] {
    return [...(this.byJob.get(job)?.values() ?? [])];
  }
}
