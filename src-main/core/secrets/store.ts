import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import type { SecretCipher } from './cipher.js';
import type { SecretInfo } from '../../../src-shared/contract/secrets.js';
import { AppError } from '../../../src-shared/errors.js';

/**
 * Named secrets (API keys of OpenAI-compatible teachers), encrypted by the host's cipher before they are written. Runs
 * name a secret, never hold its value; the value is decrypted in memory when a run starts a request.
 */
export class SecretsStore {
  constructor(
    private readonly db: Db,
    private readonly cipher: SecretCipher,
  ) {}

  get backend(): string {
    return this.cipher.backend;
  }

  list(): SecretInfo[] {
    const rows = this.db.prepare(`SELECT name, backend, created_at, updated_at FROM secrets ORDER BY name`).all() as {
      name: string;
      backend: string;
      created_at: string;
      updated_at: string;
    }[];
    return rows.map((r) => ({ name: r.name, backend: r.backend, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  set(name: string, value: string): SecretInfo {
    const at = nowIso();
    this.db
      .prepare(
        `INSERT INTO secrets (name, backend, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET backend = excluded.backend, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at`,
      )
      .run(name, this.cipher.backend, this.cipher.encrypt(value), at, at);
    return this.list().find((s) => s.name === name)!;
  }

  delete(name: string): boolean {
    return this.db.prepare(`DELETE FROM secrets WHERE name = ?`).run(name).changes > 0;
  }

  has(name: string): boolean {
    return this.db.prepare(`SELECT 1 FROM secrets WHERE name = ?`).get(name) !== undefined;
  }

  /** The plain value, for a request about to be sent; never logged, never returned through the contract. */
  reveal(name: string): string {
    const r = this.db.prepare(`SELECT backend, ciphertext FROM secrets WHERE name = ?`).get(name) as { backend: string; ciphertext: Buffer } | undefined;
    if (!r) throw new AppError('not_found', `there is no saved API key named ${name}`, 'apiKeySecret');
    try {
      return this.cipher.decrypt(r.ciphertext);
    } catch {
      throw new AppError(
        'conflict',
        `the API key ${name} was encrypted by ${r.backend} and cannot be decrypted by ${this.cipher.backend} (another machine or app?): save it again`,
        'apiKeySecret',
      );
    }
  }
}
