/**
 * The states a pool's queue depth is counted in: BullMQ's job states, so they match what the
 * dashboard shows. Apart from the schema in queues.ts so that the CLI can read them without TypeBox.
 */
export const QUEUE_STATES = ['waiting', 'active', 'completed', 'failed', 'delayed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];
