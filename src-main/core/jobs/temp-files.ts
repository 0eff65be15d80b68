import fs from 'node:fs';
import type { Db } from '../store/db.js';

/**
 * The temporary files of runs (table run_temp_files): a job records a path before it creates the file and releases it
 * once the file is renamed into place or removed. What is still recorded when a run ends (failed, cancelled), is
 * resumed, or is found at start-up (the app died) is the app's own leftover and is removed: exactly those paths, never
 * files guessed from a name pattern.
 */
export class TempFiles {
  constructor(private readonly db: Db) {}

  /** `runId` is a run's id, or -pid for a file this process writes outside any run (see `processKey`). */
  record(runId: number, file: string): void {
    this.db.prepare(`INSERT OR IGNORE INTO run_temp_files (run_id, path) VALUES (?, ?)`).run(runId, file);
  }

  release(runId: number, file: string): void {
    this.db.prepare(`DELETE FROM run_temp_files WHERE run_id = ? AND path = ?`).run(runId, file);
  }

  /** Paths recorded for a run. */
  list(runId: number): string[] {
    return this.db.prepare(`SELECT path FROM run_temp_files WHERE run_id = ?`).pluck().all(runId) as string[];
  }

  /**
   * Removes the leftovers of one run, or of every run except those in `active` (start-up). Returns the paths removed.
   * A path that is now a folder is left alone (it is not what the run wrote) and forgotten, unless it was recorded as a
   * folder (with a trailing `/`).
   */
  clean(runId: number | null, active: Iterable<number> = []): string[] {
    const skip = new Set(active);
    const rows = (
      runId === null
        ? this.db.prepare(`SELECT run_id, path FROM run_temp_files`).all()
        : this.db.prepare(`SELECT run_id, path FROM run_temp_files WHERE run_id = ?`).all(runId)
    ) as { run_id: number; path: string }[];
    const removed: string[] = [];
    for (const r of rows) {
      if (skip.has(r.run_id)) continue;
      // run_id -pid: a file written outside any run by process pid (an adapter import's conversion), still in flight
      // while that process lives.
      if (r.run_id < 0 && -r.run_id !== process.pid && isAlive(-r.run_id)) continue;
      try {
        const st = fs.lstatSync(r.path, { throwIfNoEntry: false });
        // A path recorded with a trailing `/` is a folder the run assembles (a training export): removed whole.
        if (r.path.endsWith('/') && st?.isDirectory()) {
          fs.rmSync(r.path, { recursive: true, force: true });
          removed.push(r.path);
        } else if (st && !st.isDirectory()) {
          fs.rmSync(r.path, { force: true });
          removed.push(r.path);
        }
      } catch {
        continue; // not removable now (permissions): keep the record, try again next time
      }
      this.release(r.run_id, r.path);
    }
    return removed;
  }
}

/** The run_id under which a file written outside any run by this process is recorded. */
export const processKey = () => -process.pid;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
