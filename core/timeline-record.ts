/**
 * Where an operation's timeline (contract/timeline.ts) lives in its record: one field per moment.
 * Four are the fields the record's own transitions write (create, claim, markRunning, the result);
 * each moment a runtime reports is one write of its own (moment-1.lua).
 */
import type { Moment, RunMoment } from './contract/timeline.js';

export type RecordedTimeline = Partial<Record<Moment, number>> & { imagePullSeconds?: number };

/** The record's field for each moment. */
const MOMENT_FIELDS: Record<Moment, string> = {
  accepted: 'acceptedAt',
  queued: 'queuedAt',
  picked: 'claimedAt',
  jobCreated: 'jobCreatedAt',
  podScheduled: 'podScheduledAt',
  imagePulled: 'imagePulledAt',
  started: 'startedAt',
  firstLine: 'firstLineAt',
  scriptEnded: 'scriptEndedAt',
  recorded: 'finishedAt',
};
const PULL_SECONDS_FIELD = 'imagePullSeconds';

const toNumber = (value: string | undefined): number | undefined => (value === undefined || value === '' ? undefined : Number(value));

export function recordedTimeline(hash: Record<string, string>): RecordedTimeline {
  const timeline: RecordedTimeline = {};
  for (const [moment, field] of Object.entries(MOMENT_FIELDS) as [Moment, string][]) {
    const at = toNumber(hash[field]);
    if (at !== undefined) timeline[moment] = at;
  }
  // Records written before `acceptedAt` was: the submission was accepted as it was queued.
  timeline.accepted ??= timeline.queued;
  const pullSeconds = toNumber(hash[PULL_SECONDS_FIELD]);
  if (pullSeconds !== undefined) timeline.imagePullSeconds = pullSeconds;
  return timeline;
}

/** The fields and values moment-1.lua writes for `moment` seen `at`: the moment's own first. */
export function momentFields(moment: RunMoment, at: number): (string | number)[] {
  return [MOMENT_FIELDS[moment.name], at, ...(moment.name === 'imagePulled' ? [PULL_SECONDS_FIELD, moment.pullSeconds] : [])];
}
