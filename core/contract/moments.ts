/**
 * The moments of an operation's timeline, in the order they happen (timeline.ts says what each
 * is): apart from its schema so that the CLI, which loads none of the server's libraries, shows them.
 */
export const MOMENTS = [
  'accepted',
  'queued',
  'picked',
  'jobCreated',
  'podScheduled',
  'imagePulled',
  'started',
  'firstLine',
  'scriptEnded',
  'recorded',
] as const;
export type Moment = (typeof MOMENTS)[number];

/** The moments a runtime reports while it runs a script (RunContext.moment); the others come with the record's own writes. */
export type RunMoment = { name: 'jobCreated' | 'podScheduled' | 'firstLine' | 'scriptEnded' } | { name: 'imagePulled'; pullSeconds: number };
