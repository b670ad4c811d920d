/**
 * Unpacking a verified archive into its package's folder: tar and tar.gz (streamed through
 * tar-stream and zlib) and zip (yauzl, which reads the central directory from the file). Every
 * entry goes through UnpackTarget, which keeps it inside the folder.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import yauzl from 'yauzl';
import type { PackageFormat } from '../../core/contract/operation.js';
import { PackageError } from './package-error.js';
import { UnpackTarget, type UnpackBudget } from './unpack-target.js';

export interface Unpacked {
  files: number;
  bytes: number;
}

async function unpackTar(archive: string, target: UnpackTarget, gzip: boolean, signal: AbortSignal): Promise<void> {
  const extract = tarStream.extract();
  extract.on('entry', (header, stream, next) => {
    const entry = async (): Promise<void> => {
      switch (header.type) {
        case 'file':
        case 'contiguous-file':
          return target.file(header.name, stream as AsyncIterable<Buffer>, header.mode ?? 0o644);
        case 'directory':
          await target.directory(header.name);
          break;
        case 'symlink':
          target.symbolicLink(header.name, header.linkname ?? '');
          break;
        case 'link':
          await target.hardLink(header.name, header.linkname ?? '');
          break;
        default:
          throw new PackageError(`the archive entry ${JSON.stringify(header.name)} is a ${header.type ?? 'special file'}, which a package cannot hold`);
      }
      stream.resume();
    };
    entry().then(
      () => next(),
      (error: unknown) => extract.destroy(error as Error),
    );
  });
  if (gzip) await pipeline(createReadStream(archive), createGunzip(), extract, { signal });
  else await pipeline(createReadStream(archive), extract, { signal });
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const MAX_LINK_TARGET = 4096;

async function unpackZip(archive: string, target: UnpackTarget, signal: AbortSignal): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(archive, { lazyEntries: true, autoClose: true, validateEntrySizes: true }, (error, file) => (error ? reject(error) : resolve(file))),
  );
  const open = (entry: yauzl.Entry): Promise<Readable> =>
    new Promise((resolve, reject) => zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream))));
  await new Promise<void>((resolve, reject) => {
    const fail = (error: unknown): void => {
      zip.close();
      reject(error as Error);
    };
    zip.on('error', fail);
    zip.on('end', resolve);
    zip.on('entry', (entry: yauzl.Entry) => {
      const mode = entry.externalFileAttributes >>> 16;
      const handle = async (): Promise<void> => {
        signal.throwIfAborted();
        if (entry.fileName.endsWith('/')) return target.directory(entry.fileName);
        if ((mode & S_IFMT) === S_IFLNK) {
          if (entry.uncompressedSize > MAX_LINK_TARGET)
            throw new PackageError(`the archive entry ${JSON.stringify(entry.fileName)} is a link with an invalid target`);
          const chunks: Buffer[] = [];
          for await (const chunk of await open(entry)) chunks.push(chunk as Buffer);
          return target.symbolicLink(entry.fileName, Buffer.concat(chunks).toString('utf8'));
        }
        return target.file(entry.fileName, await open(entry), mode);
      };
      handle().then(() => zip.readEntry(), fail);
    });
    zip.readEntry();
  });
}

/**
 * Unpacks `archive` into `folder` (which exists); a PackageError says what was wrong with it.
 * `signal` (cancel, timeout) stops it between entries.
 */
export async function unpack(
  archive: string,
  folder: string,
  format: Exclude<PackageFormat, 'none'>,
  budget: UnpackBudget,
  signal: AbortSignal,
): Promise<Unpacked> {
  const target = new UnpackTarget(folder, budget);
  try {
    if (format === 'zip') await unpackZip(archive, target, signal);
    else await unpackTar(archive, target, format === 'tar.gz', signal);
    await target.makeLinks();
  } catch (error) {
    if (error instanceof PackageError || signal.aborted) throw error;
    // tar-stream, zlib and yauzl say what is wrong with the bytes; a file system error is ours.
    if ((error as NodeJS.ErrnoException).syscall) throw error;
    throw new PackageError(`it is not a valid ${format} archive: ${(error as Error).message}`);
  }
  return { files: target.files, bytes: target.bytes };
}
