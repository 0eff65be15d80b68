// The data-folder lock every host takes before it runs jobs: the desktop app, `distillery serve` and the CLI's
// in-process runs (src-main/host: shared by the hosts, imported by none of core).
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../src-shared/errors.js';

const LOCK_FILE = 'distillery.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One process runs the jobs of a data folder (a second would mark the first one's runs interrupted). The lock file
 * holds the owner's pid; a lock left by a killed process is taken over.
 */
export function acquireDataLock(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(file, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new AppError('conflict', `another Distillery (pid ${owner}) is already using ${dataDir}`);
      }
      fs.rmSync(file, { force: true }); // stale: its owner died
    }
  }
  throw new AppError('conflict', `could not lock ${dataDir}`);
}
