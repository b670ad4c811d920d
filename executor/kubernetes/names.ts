/**
 * Names and labels of the Kubernetes objects of an operation. The Job (and its Secret) are named
 * from the ticket, deterministically, so that a redelivered operation finds the Job it already
 * has: a readable part of the ticket plus a hash of all of it, so two tickets never collide.
 */
import { createHash } from 'node:crypto';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kube-worker' } as const;
export const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=kube-worker';
export const LABEL_TICKET = 'kube-worker/ticket';
export const LABEL_POOL = 'kube-worker/pool';
export const LABEL_JOB = 'kube-worker/job';
/** The exact ticket; the label may have had to be shortened or cleaned. */
export const ANNOTATION_TICKET = 'kube-worker/ticket';
export const SCRIPT_CONTAINER = 'script';

const MAX_NAME = 63;

/** `kw-<ticket, lowercased and cleaned>-<8 hex of its hash>`, a DNS label of at most 63 characters. */
export function jobName(ticket: string): string {
  const hash = createHash('sha256').update(ticket).digest('hex').slice(0, 8);
  const readable = ticket.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  const room = MAX_NAME - 'kw-'.length - 1 - hash.length;
  const part = readable.slice(0, room).replace(/-$/, '');
  return part ? `kw-${part}-${hash}` : `kw-${hash}`;
}

/** A label value (at most 63, alphanumeric at both ends) that stands for the ticket. */
export function ticketLabel(ticket: string): string {
  const cleaned = ticket.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, MAX_NAME).replace(/[^A-Za-z0-9]+$/, '');
  return cleaned || createHash('sha256').update(ticket).digest('hex').slice(0, 16);
}
