import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.js';
import { isInternalFile } from '../files/output-path.js';
import { fileError } from '../files/errors.js';

/**
 * The rule for a training folder the user names: absolute, its parent folder exists, not in the data folder (checked on
 * real paths), not a file, and when it exists and is not empty only with `force` (then it is replaced as a whole).
 * Checked when the run is submitted and again right before the folder is put in place. Returns the absolute path.
 */
export function checkOutDir(outDir: string, opts: { dataDir: string; force: boolean }): string {
  const field = 'outDir';
  if (!path.isAbsolute(outDir)) throw new AppError('invalid_input', `${outDir}: the output folder must be an absolute path`, field);
  const absolute = path.resolve(outDir);
  const parent = path.dirname(absolute);
  let real: string;
  try {
    const st = fs.statSync(parent, { throwIfNoEntry: false });
    if (!st) throw new AppError('file_missing', `the folder ${parent} does not exist; create it first`, field);
    if (!st.isDirectory()) throw new AppError('not_a_file', `${parent} is not a folder`, field);
    real = path.join(fs.realpathSync.native(parent), path.basename(absolute));
  } catch (e) {
    throw e instanceof AppError ? e : fileError(e, parent, field);
  }
  const dataReal = realOr(opts.dataDir);
  const rel = path.relative(dataReal, realOr(real));
  if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel)) || isInternalFile(real, opts.dataDir)) {
    throw new AppError('invalid_input', `${absolute} is inside Distillery's data folder (${opts.dataDir}); choose a folder outside it`, field);
  }
  const st = fs.lstatSync(absolute, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new AppError('conflict', `${absolute} exists and is not a folder; choose a new folder name`, field);
  if (st && !opts.force && fs.readdirSync(absolute).length > 0) {
    throw new AppError('file_exists', `${absolute} exists and is not empty; choose another folder or replace it (--force)`, field);
  }
  return absolute;
}

function realOr(p: string): string {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * Puts the assembled folder `partial` at `outDir`: a plain rename when nothing (or an empty folder) is there, else the
 * old folder is moved aside, the new one renamed in, and the old one removed — the folder at `outDir` is always whole,
 * old or new. Returns whether an old folder was replaced.
 */
export function installFolder(partial: string, outDir: string, aside: string): boolean {
  const st = fs.lstatSync(outDir, { throwIfNoEntry: false });
  if (!st) {
    fs.renameSync(partial, outDir);
    return false;
  }
  if (st.isDirectory() && fs.readdirSync(outDir).length === 0) {
    fs.rmdirSync(outDir);
    fs.renameSync(partial, outDir);
    return false;
  }
  fs.renameSync(outDir, aside);
  try {
    fs.renameSync(partial, outDir);
  } catch (e) {
    fs.renameSync(aside, outDir); // put the old one back: the user keeps what they had
    throw e;
  }
  fs.rmSync(aside, { recursive: true, force: true });
  return true;
}

export interface FolderFile {
  /** Relative, `/`-separated. */
  path: string;
  absolute: string;
}

/** Every file under `dir`, sorted, walked with a stack (no recursion) and bounded. */
export function listFiles(dir: string, limit = 10_000, maxDepth = 16): FolderFile[] {
  const out: FolderFile[] = [];
  const stack: { rel: string; depth: number }[] = [{ rel: '', depth: 0 }];
  while (stack.length) {
    const { rel, depth } = stack.pop()!;
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (depth + 1 > maxDepth) throw new Error(`${r}: the training folder is nested deeper than ${maxDepth} levels`);
        stack.push({ rel: r, depth: depth + 1 });
      } else if (entry.isFile()) {
        out.push({ path: r, absolute: path.join(dir, ...r.split('/')) });
        if (out.length > limit) throw new Error(`the training folder holds more than ${limit} files`);
      }
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
