import { z } from 'zod';

/**
 * A file or folder path as a user types it: trimmed, not empty, and without a NUL byte (which no file system accepts
 * and Node refuses with an internal-looking error deep inside a service).
 */
export const FilePath = z
  .string()
  .trim()
  .min(1, 'a path is required')
  .max(4096)
  .refine((p) => !p.includes('\0'), 'a path cannot contain a NUL byte (\\0)');
