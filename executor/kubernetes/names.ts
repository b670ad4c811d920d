/**
 * Names and labels of the Kubernetes objects of an operation. The Job (and its Secret) are named
 * from the instance and the ticket, deterministically, so that a redelivered operation finds the
 * Job it already has: a readable part of the ticket plus a hash of both, so two tickets never
 * collide, and two instances (releases) sharing a namespace never name a Job alike for one ticket.
 * Every object carries its instance's label, and every list, watch and sweep selects on it.
 */
import { createHash } from 'node:crypto';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kube-worker' } as const;
const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=kube-worker';
export const LABEL_INSTANCE = 'kube-worker/instance';
export const LABEL_TICKET = 'kube-worker/ticket';
export const LABEL_POOL = 'kube-worker/pool';
export const LABEL_JOB = 'kube-worker/job';
/** The exact ticket; the label may have had to be shortened or cleaned. */
export const ANNOTATION_TICKET = 'kube-worker/ticket';
export const SCRIPT_CONTAINER = 'script';
/** The init container that fetches the operation's packages before the script starts. */
export const FETCH_CONTAINER = 'fetch';

const MAX_NAME = 63;

/** The label selector of one instance's objects: nothing of another release matches it. */
export function instanceSelector(instance: string): string {
  return `${MANAGED_SELECTOR},${LABEL_INSTANCE}=${instance}`;
}

/** `kw-<ticket, lowercased and cleaned>-<10 hex of the hash of instance and ticket>`, a DNS label of at most 63 characters. */
export function jobName(instance: string, ticket: string): string {
  // NUL cannot occur in an instance (a label value), so no two (instance, ticket) pairs hash the same input.
  const hash = createHash('sha256').update(`${instance}\0${ticket}`).digest('hex').slice(0, 10);
  const readable = ticket
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  const room = MAX_NAME - 'kw-'.length - 1 - hash.length;
  const part = readable.slice(0, room).replace(/-$/, '');
  return part ? `kw-${part}-${hash}` : `kw-${hash}`;
}

/** A label value (at most 63, alphanumeric at both ends) that stands for the ticket. */
export function ticketLabel(ticket: string): string {
  const cleaned = ticket
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, MAX_NAME)
    .replace(/[^A-Za-z0-9]+$/, '');
  return cleaned || createHash('sha256').update(ticket).digest('hex').slice(0, 16);
}
