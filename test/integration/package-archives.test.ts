/**
 * Hostile archives: nothing an archive holds lands outside its package's folder — not through
 * `..`, an absolute name, a link (even a chain of links that each look harmless), a hard link or a
 * special file — and an archive that unpacks to more than the limit stops there.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unpack } from '../../executor/packages/unpack.js';
import { tar, zip, type ArchiveEntry } from '../support/archives.js';

const never = new AbortController().signal;
let scratch: string;
let folder: string;
beforeEach(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'kw-archive-'));
  folder = path.join(scratch, 'packages', 'app');
  await mkdir(folder, { recursive: true });
});
afterEach(() => rm(scratch, { recursive: true, force: true }));

const archive = async (bytes: Buffer): Promise<string> => {
  const file = path.join(scratch, 'archive');
  await writeFile(file, bytes);
  return file;
};

/** A tar with raw headers, for entry types tar() does not make. */
async function rawTar(headers: Array<Partial<tarStream.Header> & { name: string }>): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const header of headers) {
    if (header.type === 'file') pack.entry(header, 'x');
    else pack.entry(header);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

describe('unpacking refuses what would leave the package folder', () => {
  it.each<[string, () => Promise<Buffer>, 'tar' | 'zip', RegExp]>([
    ['a tar entry named with ..', () => rawTar([{ name: 'a/../../escaped.txt', type: 'file' }]), 'tar', /climbs out of its folder/],
    ['a tar entry with an absolute name', () => rawTar([{ name: '/tmp/escaped.txt', type: 'file' }]), 'tar', /is an absolute path/],
    ['a tar link to an absolute path', () => tar([{ name: 'etc', link: '/etc' }]), 'tar', /links to the absolute path "\/etc"/],
    ['a tar link climbing out', () => tar([{ name: 'deep/up', link: '../../..' }]), 'tar', /links to "\.\.\/\.\.\/\.\.", outside its folder/],
    [
      'a chain of links that each look inside',
      () =>
        tar([
          { name: 'here', link: '.' },
          { name: 'out', link: 'here/..' },
        ]),
      'tar',
      /"out" links to "here\/\.\.", outside its folder/,
    ],
    ['a tar hard link to a name outside', () => rawTar([{ name: 'h', type: 'link', linkname: '../../etc/passwd' }]), 'tar', /climbs out of its folder/],
    ['a tar hard link to an absolute path', () => rawTar([{ name: 'h', type: 'link', linkname: '/etc/passwd' }]), 'tar', /is an absolute path/],
    ['a fifo', () => rawTar([{ name: 'pipe', type: 'fifo' }]), 'tar', /is a fifo, which a package cannot hold/],
    ['a device', () => rawTar([{ name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 }]), 'tar', /is a character-device/],
    ['a zip entry named with ../', () => Promise.resolve(zip([{ name: '../escaped.txt', content: 'x' }])), 'zip', /\.\.\/escaped\.txt/],
    ['a zip entry with an absolute name', () => Promise.resolve(zip([{ name: '/tmp/escaped.txt', content: 'x' }])), 'zip', /\/tmp\/escaped\.txt/],
    [
      'a zip link climbing out',
      () => Promise.resolve(zip([{ name: 'up', link: '../../../etc' }])),
      'zip',
      /"up" links to "\.\.\/\.\.\/\.\.\/etc", outside its folder/,
    ],
  ])('%s', async (_what, make, format, message) => {
    await expect(unpack(await archive(await make()), folder, format, { remaining: 1e9 }, never)).rejects.toThrow(message);
    expect((await readdir(scratch)).sort()).toEqual(['archive', 'packages']);
    expect(await readdir(path.join(scratch, 'packages'))).toEqual(['app']);
  });

  it('stops an archive that unpacks to more than the limit (a bomb)', async () => {
    const bomb = gzipSync(await tar([{ name: 'zeros', content: '\0'.repeat(4 * 1024 * 1024) }]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    await expect(unpack(await archive(bomb), folder, 'tar.gz', { remaining: 1024 * 1024 }, never)).rejects.toThrow(
      /unpacks to more bytes than the operation may use/,
    );
  });

  it('stops when cancelled', async () => {
    const many = await tar(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, content: 'x' })));
    const cancelled = AbortSignal.abort('cancel');
    // The signal's own reason is what stops it, not a failure of the archive.
    await expect(unpack(await archive(many), folder, 'tar', { remaining: 1e9 }, cancelled)).rejects.toMatchObject({ name: 'AbortError' });
    await expect(unpack(await archive(zip([{ name: 'a', content: 'x' }])), folder, 'zip', { remaining: 1e9 }, cancelled)).rejects.toBe('cancel');
  });

  it('keeps links that stay inside, and executable bits', async () => {
    const entries: ArchiveEntry[] = [
      { name: 'bin/run', content: '#!/bin/sh\n', mode: 0o755 },
      { name: 'current', link: 'bin' },
      { name: 'bin/self', link: '../bin/run' },
    ];
    const result = await unpack(await archive(await tar(entries, true)), folder, 'tar.gz', { remaining: 1e9 }, never);
    expect(result).toEqual({ files: 3, bytes: 10 });
    expect((await readdir(path.join(folder, 'current'))).sort()).toEqual(['run', 'self']);
  });
});
