/**
 * Whether a container image reference can be valid, following the grammar of
 * distribution/reference: [host[:port]/]path[:tag][@digest]. The registry is never asked.
 */
const HOST = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?`;
const COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`;
const TAG = String.raw`[\w][\w.-]{0,127}`;
const DIGEST = String.raw`[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`;
const REFERENCE = new RegExp(`^(?:${HOST}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

const MAX_NAME_LENGTH = 255;

/** Why the reference cannot be valid, or undefined when it can. */
export function imageReferenceProblem(reference: string): string | undefined {
  if (reference !== reference.trim() || /\s/.test(reference)) return 'it contains whitespace';
  if (reference.includes('://')) return 'it is a URL; give the reference without a scheme, e.g. ghcr.io/acme/tools:1.2';
  const withoutDigest = reference.split('@')[0] ?? '';
  const tagAt = withoutDigest.lastIndexOf(':');
  const name = tagAt > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, tagAt) : withoutDigest;
  if (name.length > MAX_NAME_LENGTH) return `its name is longer than ${MAX_NAME_LENGTH} characters`;
  if (!REFERENCE.test(reference)) {
    return 'it does not follow [registry/]repository[:tag][@digest] with a lowercase repository';
  }
  return undefined;
}
