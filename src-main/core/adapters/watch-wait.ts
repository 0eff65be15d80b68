import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { lookForAdapter, type FolderLook } from './watch-folder.js';
import { AppError } from '../../../src-shared/errors.js';

/** How `adapters.watch` waits: no busy loop, whatever the trainer does. */
export interface WatchTiming {
  /** Look again at least this often when no change is reported (fs.watch misses events on network and some FUSE file systems). */
  pollMs: number;
  /** A complete adapter is looked at again after this long: imported only when neither file changed in between. */
  settleMs: number;
  /** At least this long between two looks, however many change events a trainer's writes raise. */
  gapMs: number;
}
export const WATCH_TIMING: WatchTiming = { pollMs: 5_000, settleMs: 1_000, gapMs: 250 };

export type CompleteAdapter = Extract<FolderLook, { state: 'complete' }>;

export interface WaitOptions {
  signal: AbortSignal;
  timing: WatchTiming;
  /** Epoch ms after which the wait fails; null: until cancelled. */
  deadline: number | null;
  /** Called at every look that finds nothing to import yet: `key` names the kind of wait, `why` says it with today's numbers. */
  waiting(key: string, why: string): void;
}

/**
 * Resolves with the adapter below `dir` once it is complete and stable across two looks `settleMs` apart. Looks again
 * when fs.watch reports a change in a folder it read, and every `pollMs` regardless. A `.bin`-only adapter fails at
 * once (it will never be importable); anything incomplete is waited for.
 */
export async function waitForAdapter(dir: string, o: WaitOptions): Promise<CompleteAdapter> {
  const changes = new Changes();
  try {
    let candidate: CompleteAdapter | null = null;
    for (;;) {
      o.signal.throwIfAborted();
      const look = lookForAdapter(dir);
      changes.watch(look.folders.length > 0 ? look.folders : [nearestExisting(dir)]);
      const found = look.found;
      if (found?.state === 'refused') throw new AppError('invalid_input', found.why, 'dir');
      if (found?.state === 'complete') {
        if (candidate && sameFiles(candidate, found)) return found;
        candidate = found;
        o.waiting(
          `settle:${found.folder}`,
          `${path.relative(dir, found.folder) || path.basename(dir)}: complete; checking that the trainer has stopped writing it`,
        );
        await sleep(o.timing.settleMs, undefined, { signal: o.signal });
        continue;
      }
      candidate = null;
      const key = found?.state === 'waiting' ? found.key : look.key;
      const why = found?.state === 'waiting' ? found.why : look.why;
      o.waiting(key, why);
      if (o.deadline !== null && Date.now() >= o.deadline) {
        throw new AppError('conflict', `no complete adapter appeared in ${dir} in the time given; the last look: ${why}`, 'timeoutMinutes');
      }
      const wait = o.deadline === null ? o.timing.pollMs : Math.max(0, Math.min(o.timing.pollMs, o.deadline - Date.now()));
      await changes.next(wait, o.signal);
      await sleep(o.timing.gapMs, undefined, { signal: o.signal });
    }
  } finally {
    changes.close();
  }
}

function sameFiles(a: CompleteAdapter, b: CompleteAdapter): boolean {
  return (
    a.folder === b.folder &&
    a.config.size === b.config.size &&
    a.config.mtimeMs === b.config.mtimeMs &&
    a.weights.size === b.weights.size &&
    a.weights.mtimeMs === b.weights.mtimeMs
  );
}

/** `dir`, or the nearest folder above it that exists (to see `dir` appear). */
function nearestExisting(dir: string): string {
  let at = dir;
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  return at;
}

/** fs.watch on a set of folders (non-recursive, so as many watches as folders read): a flag raised by any change. */
class Changes {
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private changed = false;
  private wake: (() => void) | null = null;

  watch(folders: string[]): void {
    const keep = new Set(folders);
    for (const [folder, w] of this.watchers) {
      if (!keep.has(folder)) {
        w.close();
        this.watchers.delete(folder);
      }
    }
    for (const folder of keep) {
      if (this.watchers.has(folder)) continue;
      try {
        const w = fs.watch(folder, { persistent: false }, () => this.raise());
        w.on('error', () => {
          w.close();
          this.watchers.delete(folder);
        });
        this.watchers.set(folder, w);
      } catch {
        // no watch on this folder (gone, or the file system has none): the poll sees its changes
      }
    }
  }

  private raise(): void {
    this.changed = true;
    this.wake?.();
  }

  /** Resolves at the next change (or at once if one came since the last call), after `ms` at the latest, or on abort. */
  async next(ms: number, signal: AbortSignal): Promise<void> {
    if (!this.changed && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.wake = null;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done);
        this.wake = done;
      });
    }
    this.changed = false;
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.wake?.();
  }
}
