import { AppError, isAppError } from '../../../src-shared/errors.js';

/**
 * A file system error on a path the user named, as a typed error with the path and the reason in one sentence (never
 * Node's "EACCES: permission denied, open '…'" text nor a stack). An AppError passes through unchanged.
 */
export function fileError(e: unknown, file: string, field?: string): AppError {
  if (isAppError(e)) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return new AppError('file_missing', `${file} does not exist`, field);
    case 'EACCES':
    case 'EPERM':
      return new AppError('file_access', `${file}: permission denied`, field);
    case 'ELOOP':
      return new AppError('file_access', `${file}: too many levels of symbolic links (a symlink that points back to itself?)`, field);
    case 'EISDIR':
      return new AppError('not_a_file', `${file} is a folder, not a file`, field);
    case 'ENOTDIR':
      return new AppError('not_a_file', `${file}: a part of the path is a file, not a folder`, field);
    case 'ENAMETOOLONG':
      return new AppError('invalid_input', `${file}: the name is too long for the file system`, field);
    case 'ENOSPC':
      return new AppError('file_access', `${file}: the disk is full`, field);
    case 'EROFS':
      return new AppError('file_access', `${file}: the file system is read-only`, field);
    case 'EBUSY':
    case 'EMFILE':
    case 'ENFILE':
      return new AppError('file_access', `${file}: the file is busy or too many files are open (${code}); try again`, field);
    default: {
      if (code === 'ERR_INVALID_ARG_VALUE' || (typeof (e as Error | null)?.message === 'string' && (e as Error).message.includes('null bytes'))) {
        return new AppError('invalid_input', `${JSON.stringify(file)}: a path cannot contain a NUL byte`, field);
      }
      const reason = code ?? (e instanceof Error ? e.message.split('\n')[0] : String(e));
      return new AppError('file_access', `${file}: ${reason}`, field);
    }
  }
}

/** True for an error the file system raised (ENOENT, EACCES...) or Node's refusal of a path with a NUL byte. */
export function isFileSystemError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && (/^E[A-Z]+$/.test(code) || code === 'ERR_INVALID_ARG_VALUE');
}

/** Runs `fn`, turning a file system error into `fileError(e, file)`; other errors pass through unchanged. */
export function withFileErrors<T>(file: string, fn: () => T, field?: string): T {
  try {
    return fn();
  } catch (e) {
    throw isFileSystemError(e) ? fileError(e, file, field) : e;
  }
}

/** The async twin of `withFileErrors`. */
export async function withFileErrorsAsync<T>(file: string, fn: () => Promise<T>, field?: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw isFileSystemError(e) ? fileError(e, file, field) : e;
  }
}
