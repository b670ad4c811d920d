/** The product version, from package.json, read once. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function findVersion(): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      return (require(candidate) as { version: string }).version;
    } catch {
      // Built code sits one folder deeper (dist/core) than the sources (core).
    }
  }
  return '0.0.0';
}

export const VERSION = findVersion();
