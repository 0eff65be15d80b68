import { z } from 'zod';
import { op } from './define.js';

export const SecretName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-"');

/** A saved secret as the UI sees it: never its value. */
export interface SecretInfo {
  name: string;
  /** What encrypted it: Electron safeStorage, the OS keyring's key, or a key file. */
  backend: string;
  createdAt: string;
  updatedAt: string;
}

export const secretsOps = {
  /** Saved API keys (names and how they are protected; never values). */
  'secrets.list': op<{ backend: string; secrets: SecretInfo[] }>()(z.strictObject({})),
  /** Saves (or replaces) an API key, encrypted before it reaches the database. */
  'secrets.set': op<SecretInfo>()(z.strictObject({ name: SecretName, value: z.string().min(1).max(16_384) })),
  'secrets.delete': op<{ deleted: boolean }>()(z.strictObject({ name: SecretName })),
};
