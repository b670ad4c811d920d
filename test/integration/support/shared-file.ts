/**
 * A file several operations write to. Under a root executor each operation runs as a user of its
 * own, so a file one of them created is not writable by the next: the test makes it first, open to all.
 */
import { chmodSync, writeFileSync } from 'node:fs';

/** Creates `file` empty and writable by every user; returns its path. */
export function sharedFile(file: string): string {
  writeFileSync(file, '');
  chmodSync(file, 0o666);
  return file;
}
