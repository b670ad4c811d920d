/**
 * The uids of a range handed to running operations, one each: a uid is never held by two running
 * operations at once — of this executor or of another on the same machine with an overlapping
 * range — and is not handed out again while any process of it remains (one that could not be
 * killed, or one left by an executor that died).
 *
 * Executors on one machine agree through an abstract Unix socket per uid: binding its name is
 * exclusive, and the kernel lets go of it when the holder closes it or dies, so a crash leaves no
 * stale claim. (A script may bind such a name too; the uid is then skipped, nothing more.) Taken in
 * turn from a random start rather than lowest first, so that executors seldom contend and what an
 * operation left outside its workspace (a file in /tmp) is seldom met by the next.
 */
import { randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import type { ScriptUser, UidRange } from './script-user.js';

/** Binds the machine-wide claim on `uid`; undefined when someone holds it already. */
function claim(uid: number): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error)));
    server.listen({ path: `\0kube-worker-uid-${uid}` }, () => resolve(server.unref()));
  });
}

export class UidPool {
  private readonly held = new Map<number, Server | undefined>();
  private next: number;

  /** `inUse` lists the uids some live process holds (uid-processes.ts's uidsInUse). */
  constructor(
    readonly uids: UidRange,
    private readonly inUse: () => Promise<Set<number>>,
  ) {
    this.next = uids.first + randomInt(Math.min(uids.last - uids.first + 1, 2 ** 47));
  }

  /**
   * A uid no running operation holds and no process has, as user and group; undefined when there
   * is none. The claim comes first and /proc is read once a take, after the first claim that holds:
   * a scan reads every process's status, so it costs far more than a bind.
   */
  async take(): Promise<ScriptUser | undefined> {
    let busy: Set<number> | undefined;
    const size = this.uids.last - this.uids.first + 1;
    for (let tried = 0; tried < size; tried += 1) {
      const uid = this.next;
      this.next = uid === this.uids.last ? this.uids.first : uid + 1;
      if (this.held.has(uid)) continue;
      // Held while the claim is bound, so that a concurrent take here passes it by.
      this.held.set(uid, undefined);
      const server = await claim(uid);
      // No running operation has it now; a process left behind still may (one that could not be killed, or an executor's that died).
      if (server) busy ??= await this.inUse();
      if (!server || busy!.has(uid)) {
        server?.close();
        this.held.delete(uid);
        continue;
      }
      this.held.set(uid, server);
      return { uid, gid: uid };
    }
    return undefined;
  }

  /** Gives `uid` back once its operation has ended and its processes are killed. */
  give(uid: number): void {
    this.held.get(uid)?.close();
    this.held.delete(uid);
  }
}
