/**
 * `kube-worker status` of one operation: its timeline as durations, each moment after the one
 * before it, so that the slow step stands out; the image pull says how long the pull itself took.
 */
import type { OperationStatus } from '../client/index.js';
import { MOMENTS, type Moment } from '../core/contract/moments.js';
import { formatElapsed } from './status-line.js';

type Timeline = OperationStatus['timeline'];

const LABELS: Record<Moment, string> = {
  accepted: 'accepted',
  queued: 'queued',
  picked: 'picked by an executor',
  jobCreated: 'Job created',
  podScheduled: 'pod scheduled',
  imagePulled: 'image pulled',
  started: 'started',
  firstLine: 'first line',
  scriptEnded: 'script ended',
  recorded: 'result recorded',
};

/** 7ms, 1.25s, 4m05s: milliseconds count below a second, a minute keeps two decimals. */
export function formatDuration(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  if (whole < 1000) return `${whole}ms`;
  if (whole < 60_000) return `${(whole / 1000).toFixed(2)}s`;
  return formatElapsed(whole);
}

/**
 * One line per moment reached: the first with its date-time, each later one with the time since the
 * moment before it, the last with the time since the first too. A clock that ran a little behind
 * another (the executor's and the dispatcher's) shows as 0ms, never as a negative duration.
 */
export function timelineLines(timeline: Timeline): string[] {
  const reached = MOMENTS.filter((moment) => timeline[moment] !== undefined).map((moment) => ({ moment, at: Date.parse(timeline[moment]!) }));
  const width = Math.max(...reached.map(({ moment }) => LABELS[moment].length));
  return reached.map(({ moment, at }, i) => {
    const label = LABELS[moment].padEnd(width);
    if (i === 0) return `${label}  ${timeline[moment]}`;
    const step = `+${formatDuration(at - reached[i - 1]!.at)}`;
    const notes = [
      ...(moment === 'imagePulled' && timeline.imagePullSeconds !== undefined
        ? [timeline.imagePullSeconds === 0 ? 'image on the node already' : `pulled in ${formatDuration(timeline.imagePullSeconds * 1000)}`]
        : []),
      ...(i === reached.length - 1 && i > 1 ? [`${formatDuration(at - reached[0]!.at)} in all`] : []),
    ];
    return notes.length > 0 ? `${label}  ${step.padEnd(9)}  ${notes.join(', ')}` : `${label}  ${step}`;
  });
}
