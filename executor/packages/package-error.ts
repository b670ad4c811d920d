/**
 * Why a package could not be fetched: the message a person reads in the operation's failure. It
 * never holds a header value or a URL's query (either may carry a credential).
 */
export class PackageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackageError';
  }
}

/** A URL as messages show it: origin and path, never its user, query or fragment. */
export function shownUrl(url: string | URL): string {
  try {
    const { origin, pathname } = typeof url === 'string' ? new URL(url) : url;
    return origin + pathname;
  } catch {
    return 'an invalid URL';
  }
}
