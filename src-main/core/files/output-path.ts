import fs from 'node:fs';
import path from 'node:path';
import { DATABASE_FILE } from '../paths.js';
import { SEARCH_FILE } from '../store/search-db.js';
import { AppError } from '../../../src-shared/errors.js';
import { fileError } from './errors.js';

/**
 * The data folder's own files: the library (and SQLite's -wal/-shm/-journal beside it), the search index, the lock that
 * says which process owns the folder (host/data-lock.ts) and the secrets key (secrets/cipher.ts). Names starting with
 * the databases' names are all refused, whatever SQLite adds after them.
 */
const INTERNAL_PREFIXES = [DATABASE_FILE, SEARCH_FILE];
const INTERNAL_NAMES = new Set(['distillery.lock', 'secrets.key']);
/** Folders of the data folder whose files the app made and tracks: converted adapters, the sample workspace. */
const INTERNAL_FOLDERS = ['adapters', 'sample'];

export interface OutputRule {
  /** The data folder of the running app: nothing of its own may be written over. */
  dataDir: string;
  /** The user asked to replace an existing file (`--force`, a confirmation in the UI). */
  replace: boolean;
  /** The input field the path came from, for the error. */
  field?: string;
}

/** The real path of a file that may not exist yet: the real path of its (existing) folder + its name. */
function realTarget(absolute: string, field: string | undefined): string {
  const parent = path.dirname(absolute);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(parent, { throwIfNoEntry: false });
  } catch (e) {
    throw fileError(e, parent, field);
  }
  if (!st) throw new AppError('file_missing', `the folder ${parent} does not exist; create it first`, field);
  if (!st.isDirectory()) throw new AppError('not_a_file', `${parent} is not a folder`, field);
  try {
    return path.join(fs.realpathSync.native(parent), path.basename(absolute));
  } catch (e) {
    throw fileError(e, parent, field);
  }
}

function realDir(dir: string): string {
  try {
    return fs.realpathSync.native(dir);
  } catch {
    return path.resolve(dir);
  }
}

/** True when `file` (a real path) is one of the data folder's own files or lies in one of its internal folders. */
export function isInternalFile(file: string, dataDir: string): boolean {
  const root = realDir(dataDir);
  // macOS and Windows file systems ignore case by default: DISTILLERY.DB is the library there.
  const fold = (p: string) => (process.platform === 'darwin' || process.platform === 'win32' ? p.toLowerCase() : p);
  const rel = fold(path.relative(root, file));
  if (rel === '') return true;
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return false;
  const [first, ...rest] = rel.split(path.sep);
  if (rest.length > 0) return INTERNAL_FOLDERS.includes(first!);
  return INTERNAL_NAMES.has(first!) || INTERNAL_FOLDERS.includes(first!) || INTERNAL_PREFIXES.some((p) => first!.startsWith(p));
}

/**
 * The one rule for every operation that writes a file at a path the user named (dataset export, adapter merge, and
 * later reports): the folder must exist (it is never created silently); the file may not be one of the data folder's
 * own files, checked on real paths so a symlink to the folder or to the file does not get through; a folder is
 * refused; and an existing file is replaced only when the user asked for it. Every refusal is a typed error naming
 * the path and the reason. Returns the absolute path. Call it when the run is submitted AND right before the file is
 * written (a run resumed later must not clobber a file that appeared meanwhile).
 */
export function checkOutputPath(file: string, rule: OutputRule): string {
  const { field } = rule;
  if (file.includes('\0')) throw new AppError('invalid_input', `${JSON.stringify(file)}: a path cannot contain a NUL byte`, field);
  const absolute = path.resolve(file);
  const real = realTarget(absolute, field);
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(absolute, { throwIfNoEntry: false });
  } catch (e) {
    throw fileError(e, absolute, field);
  }
  // An existing symlink: what it points to counts too (renaming over the link leaves its target alone, but a writer
  // that opens the path follows it).
  let pointed: string | null = null;
  let target = st;
  if (st?.isSymbolicLink()) {
    try {
      pointed = fs.realpathSync.native(absolute);
      target = fs.statSync(pointed);
    } catch (e) {
      // A dangling link: where it would point. A loop is refused as such.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(e, absolute, field);
      pointed = path.resolve(path.dirname(real), fs.readlinkSync(absolute));
      target = undefined;
    }
  }
  if (isInternalFile(real, rule.dataDir) || (pointed !== null && isInternalFile(pointed, rule.dataDir))) {
    throw new AppError('invalid_input', `${absolute} is one of Distillery's own files (data folder ${rule.dataDir}); choose a file outside it`, field);
  }
  if (target?.isDirectory()) throw new AppError('not_a_file', `${absolute} is a folder; give a file name`, field);
  if (st && !rule.replace) throw new AppError('file_exists', `${absolute} already exists; choose another name or ask to replace it (--force)`, field);
  return absolute;
}
