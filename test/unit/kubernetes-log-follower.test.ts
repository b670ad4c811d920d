/**
 * Following one container's log: told when the container ended or the pod went, it reports once
 * every line is in, reading again (from its cursor) whatever a dropped or stuck stream left out.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LOG_DRAIN_MS, LogFollower, type LogRead } from '../../executor/kubernetes/pod-log.js';

interface FakeRead {
  follow: boolean;
  stopped: boolean;
  end(): void;
  fail(): void;
}

/** A log whose reads the test ends, fails or leaves open; stop() ends a read as readPodLog does. */
function fakeLog(): { reads: FakeRead[]; read(follow: boolean): LogRead } {
  const reads: FakeRead[] = [];
  return {
    reads,
    read(follow) {
      let end = (): void => undefined;
      let fail = (): void => undefined;
      const done = new Promise<void>((resolve, reject) => {
        end = resolve;
        fail = () => reject(new Error('stream dropped'));
      });
      const read: FakeRead = { follow, stopped: false, end, fail };
      reads.push(read);
      return {
        done,
        stop() {
          read.stopped = true;
          end();
        },
      };
    },
  };
}

function startFollowing() {
  const log = fakeLog();
  const onDone = vi.fn();
  const onError = vi.fn();
  const follower = new LogFollower({ read: log.read, onDone, onError });
  follower.start();
  return { follower, reads: log.reads, onDone, onError };
}

const tick = async (ms = 0): Promise<void> => void (await vi.advanceTimersByTimeAsync(ms));

describe("following a container's log", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports once the container ended and its stream ended by itself, reading nothing more', async () => {
    const { follower, reads, onDone } = startFollowing();
    expect(reads.map((r) => r.follow)).toEqual([true]);
    follower.containerEnded();
    reads[0]!.end();
    await tick();
    expect(onDone).toHaveBeenCalledOnce();
    expect(reads).toHaveLength(1);
  });

  it('follows again after a backoff when the stream drops while the container runs', async () => {
    const { reads, onDone, onError } = startFollowing();
    reads[0]!.fail();
    await tick(199);
    expect(reads).toHaveLength(1);
    await tick(1);
    expect(reads.map((r) => r.follow)).toEqual([true, true]);
    expect(onError).toHaveBeenCalledWith(expect.any(Error), false);
    expect(onDone).not.toHaveBeenCalled();
  });

  it('follows again at once when told the container ended during the backoff', async () => {
    const { follower, reads, onDone } = startFollowing();
    reads[0]!.end();
    await tick();
    follower.containerEnded();
    await tick();
    expect(reads.map((r) => r.follow)).toEqual([true, true]);
    reads[1]!.end();
    await tick();
    expect(onDone).toHaveBeenCalledOnce();
  });

  it('closes a stream still open long after the container ended, and reads the rest once more', async () => {
    const { follower, reads, onDone } = startFollowing();
    follower.containerEnded();
    await tick(LOG_DRAIN_MS - 1);
    expect(reads[0]!.stopped).toBe(false);
    await tick(1);
    expect(reads[0]!.stopped).toBe(true);
    expect(reads.map((r) => r.follow)).toEqual([true, false]);
    expect(onDone).not.toHaveBeenCalled();
    reads[1]!.end();
    await tick();
    expect(onDone).toHaveBeenCalledOnce();
  });

  it('does not cut the last read short', async () => {
    const { follower, reads, onDone } = startFollowing();
    follower.containerEnded();
    await tick(LOG_DRAIN_MS - 100);
    reads[0]!.fail();
    await tick(LOG_DRAIN_MS);
    expect(reads.map((r) => [r.follow, r.stopped])).toEqual([
      [true, false],
      [false, false],
    ]);
    expect(onDone).not.toHaveBeenCalled();
    reads[1]!.end();
    await tick();
    expect(onDone).toHaveBeenCalledOnce();
  });

  it('reads the end of a log whose stream failed after the container ended, three times at most, then reports', async () => {
    const { follower, reads, onDone, onError } = startFollowing();
    follower.containerEnded();
    reads[0]!.fail();
    for (let n = 1; n <= 3; n += 1) {
      await tick(1000);
      reads[n]!.fail();
    }
    await tick(1000);
    expect(reads.map((r) => r.follow)).toEqual([true, false, false, false]);
    expect(onError).toHaveBeenLastCalledWith(expect.any(Error), true);
    expect(onDone).toHaveBeenCalledOnce();
  });

  it('reports at once with what it read when the pod is gone', async () => {
    const { follower, reads, onDone } = startFollowing();
    follower.cutShort();
    await tick();
    expect(reads[0]!.stopped).toBe(true);
    expect(reads).toHaveLength(1);
    expect(onDone).toHaveBeenCalledOnce();
  });

  it('reports nothing once stopped, and reads no more', async () => {
    const { follower, reads, onDone } = startFollowing();
    follower.containerEnded();
    follower.stop();
    await tick(LOG_DRAIN_MS * 2);
    expect(reads).toHaveLength(1);
    expect(onDone).not.toHaveBeenCalled();
  });
});
