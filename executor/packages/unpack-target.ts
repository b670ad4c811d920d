/**
 * Where an archive's entries may land: inside the package's folder and nowhere else. Entry names
 * with `..`, absolute paths, backslashes or NUL are refused. Files and folders are written first
 * and links last, so no entry is ever written through a link; each link is then checked where it
 * really points (realpath), and one pointing outside the folder fails the whole package. The
 * bytes written are counted against the operation's limit, which stops archive bombs.
 */
import { createWriteStream } from 'node:fs';
import { lstat, link, mkdir, realpath, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PackageError } from './package-error.js';

export interface UnpackBudget {
  /** Bytes the operation may still write. */
  remaining: number;
}

export class UnpackTarget {
  private readonly links: Array<{ at: string; target: string; name: string }> = [];
  files = 0;
  bytes = 0;

  constructor(
    private readonly root: string,
    private readonly budget: UnpackBudget,
  ) {}

  /** The absolute path of an entry, or a PackageError saying why it may not be written. */
  resolve(name: string): string {
    const clean = name.replace(/^\.\/+/, '').replace(/\/+$/, '');
    if (clean.includes('\0') || clean.includes('\\')) throw new PackageError(`the archive entry ${JSON.stringify(name)} has a NUL or a backslash in its name`);
    if (path.posix.isAbsolute(clean) || /^[A-Za-z]:/.test(clean)) throw new PackageError(`the archive entry ${JSON.stringify(name)} is an absolute path`);
    if (clean.split('/').includes('..')) throw new PackageError(`the archive entry ${JSON.stringify(name)} climbs out of its folder with ..`);
    return clean === '' || clean === '.' ? this.root : path.join(this.root, clean);
  }

  async directory(name: string): Promise<void> {
    await mkdir(this.resolve(name), { recursive: true, mode: 0o755 });
  }

  async file(name: string, content: AsyncIterable<Buffer> | Readable, mode: number): Promise<void> {
    const at = this.resolve(name);
    if (at === this.root) throw new PackageError(`the archive entry ${JSON.stringify(name)} is not a file name`);
    await mkdir(path.dirname(at), { recursive: true, mode: 0o755 });
    await rm(at, { force: true, recursive: true });
    const count = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.bytes += chunk.length;
        this.budget.remaining -= chunk.length;
        if (this.budget.remaining < 0) return done(new PackageError('it unpacks to more bytes than the operation may use (KUBE_WORKER_PACKAGE_MAX_BYTES)'));
        done(null, chunk);
      },
    });
    await pipeline(content, count, createWriteStream(at, { flags: 'wx', mode: mode & 0o111 ? 0o755 : 0o644 }));
    this.files += 1;
  }

  /** A hard link to an entry written before it (tar). */
  async hardLink(name: string, targetName: string): Promise<void> {
    const at = this.resolve(name);
    const target = this.resolve(targetName);
    const stat = await lstat(target).catch(() => undefined);
    if (!stat?.isFile())
      throw new PackageError(`the archive entry ${JSON.stringify(name)} links to ${JSON.stringify(targetName)}, which is not a file of the archive`);
    await mkdir(path.dirname(at), { recursive: true, mode: 0o755 });
    await rm(at, { force: true });
    await link(target, at);
    this.files += 1;
  }

  /** Remembered, made by makeLinks() once every file is written. */
  symbolicLink(name: string, target: string): void {
    if (target === '' || target.includes('\0')) throw new PackageError(`the archive entry ${JSON.stringify(name)} is a link with an invalid target`);
    if (path.posix.isAbsolute(target))
      throw new PackageError(`the archive entry ${JSON.stringify(name)} links to the absolute path ${JSON.stringify(target)}, outside its folder`);
    this.links.push({ at: this.resolve(name), target, name });
  }

  /** Makes the links, then checks where each one really leads. */
  async makeLinks(): Promise<void> {
    const realRoot = await realpath(this.root);
    const inside = (p: string): boolean => p === realRoot || p.startsWith(realRoot + path.sep);
    for (const entry of this.links) {
      await mkdir(path.dirname(entry.at), { recursive: true, mode: 0o755 });
      const parent = await realpath(path.dirname(entry.at));
      if (!inside(parent) || !inside(path.resolve(parent, entry.target))) {
        throw new PackageError(`the archive entry ${JSON.stringify(entry.name)} links to ${JSON.stringify(entry.target)}, outside its folder`);
      }
      await rm(entry.at, { force: true, recursive: true });
      await symlink(entry.target, entry.at);
    }
    for (const entry of this.links) {
      const real = await realpath(entry.at).catch(() => undefined);
      // A link whose target does not exist was checked above from its real folder.
      if (real !== undefined && !inside(real))
        throw new PackageError(`the archive entry ${JSON.stringify(entry.name)} links to ${JSON.stringify(entry.target)}, outside its folder`);
    }
    this.files += this.links.length;
  }
}
