/**
 * Settings of packages: the sources they may come from, how much one operation may download, and
 * the image of the Kubernetes init container that fetches them. Part of the one configuration read
 * at start-up (core/config.ts); the dispatcher refuses at submit time what these do not allow.
 */
import { ConfigError, integer, list, setting, type ConfigOf } from './config-parsers.js';
import { imageReferenceProblem } from './image-reference.js';
import { parseSource } from './package-sources.js';

export const DEFAULT_PACKAGE_MAX_BYTES = 2 * 1024 ** 3;

export const PACKAGE_SETTINGS = [
  setting({
    env: 'KUBE_WORKER_PACKAGE_SOURCES',
    key: 'packageSources',
    defaultNote: 'none: packages are refused',
    description:
      'URL prefixes packages may be downloaded from, comma-separated (e.g. https://feed.example.com/packages/). A URL outside them, a redirect that leaves them, a user or password in the URL, and link-local addresses are refused; loopback addresses only under a source on a loopback host.',
    parse: (raw) =>
      list(raw).map((text) => {
        const source = parseSource(text);
        if (typeof source === 'string') throw new ConfigError(`KUBE_WORKER_PACKAGE_SOURCES: ${source}`);
        return source;
      }),
  }),
  setting({
    env: 'KUBE_WORKER_PACKAGE_MAX_BYTES',
    key: 'packageMaxBytes',
    default: '2147483648',
    defaultNote: '2 GiB',
    description: 'Bytes one operation may download, all its packages together (and, separately, unpack); past it the operation fails with PackageFailed.',
    parse: integer(1024, 2 ** 50),
  }),
  setting({
    env: 'KUBE_WORKER_FETCH_IMAGE',
    key: 'fetchImage',
    defaultNote: "none; the chart sets the executor's own image",
    description:
      "Image of the init container that downloads packages into a script pod (kubernetes runtime): kube-worker's own, whose `kube-worker fetch` command it runs. Unset: operations with packages fail on Kubernetes, saying so.",
    parse: (raw) => {
      const value = raw?.trim() || undefined;
      const problem = value === undefined ? undefined : imageReferenceProblem(value);
      if (problem) throw new ConfigError(`KUBE_WORKER_FETCH_IMAGE "${value}" cannot be an image reference: ${problem}`);
      return value;
    },
  }),
] as const;

export type PackagesConfig = ConfigOf<typeof PACKAGE_SETTINGS>;
