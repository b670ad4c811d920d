/**
 * A script pod the cluster refuses to admit (pure). The Job controller reports each refused pod as
 * a FailedCreate event on the Job and keeps retrying, so without this the operation would wait for
 * the pending timeout. A refusal by policy (Pod Security, an admission webhook, an invalid spec)
 * never passes by itself: the operation fails at once with the API server's own words. A refusal
 * that can pass (a quota that frees up, a ServiceAccount not created yet) is left to the timeout.
 */
import type { CoreV1Event } from '@kubernetes/client-node';

const FINAL = /\bis forbidden\b|\bis invalid\b|admission webhook .* denied/;
const PASSING = /exceeded quota|error looking up service account/;

/** The API server's reason when `event` says the script pod is refused for good; else undefined. */
export function podRefusal(event: CoreV1Event): string | undefined {
  if (event.reason !== 'FailedCreate' || event.involvedObject.kind !== 'Job') return undefined;
  const message = event.message ?? '';
  return FINAL.test(message) && !PASSING.test(message) ? message : undefined;
}
