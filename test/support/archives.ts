/**
 * Archives built in memory for package tests: tar and tar.gz through tar-stream, zip written by
 * hand (stored entries) so that a test can put in what no well-behaved zip tool would — `../`
 * names, links pointing anywhere.
 */
import { createHash } from 'node:crypto';
import { gzipSync, crc32 } from 'node:zlib';
import tarStream from 'tar-stream';

export interface ArchiveEntry {
  name: string;
  content?: string;
  /** A symbolic link to this target instead of a file. */
  link?: string;
  directory?: boolean;
  mode?: number;
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export async function tar(entries: ArchiveEntry[], gzip = false): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const entry of entries) {
    if (entry.link !== undefined) pack.entry({ name: entry.name, type: 'symlink', linkname: entry.link });
    else if (entry.directory) pack.entry({ name: entry.name, type: 'directory', mode: 0o755 });
    else pack.entry({ name: entry.name, mode: entry.mode ?? 0o644 }, entry.content ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  const bytes = Buffer.concat(chunks);
  return gzip ? gzipSync(bytes) : bytes;
}

export function zip(entries: ArchiveEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.directory ? `${entry.name.replace(/\/$/, '')}/` : entry.name);
    const data = Buffer.from(entry.link ?? entry.content ?? '');
    const unixMode = entry.link !== undefined ? 0o120777 : entry.directory ? 0o040755 : 0o100000 | (entry.mode ?? 0o644);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode counts
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((unixMode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
