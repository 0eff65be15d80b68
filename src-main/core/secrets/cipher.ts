import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

/**
 * Encrypts secrets (API keys) before they reach the database. The desktop app uses Electron's safeStorage (the OS
 * keychain / DPAPI / libsecret key); `serve` and the CLI use a random AES-256-GCM key kept in the OS keyring when one
 * is reachable (@napi-rs/keyring: Keychain, Credential Manager, Secret Service), else in a file of the data folder
 * readable by its owner only. Either way the database, its WAL and its backups hold ciphertext only.
 */
export interface SecretCipher {
  /** Where the key lives, shown to the user (e.g. "Electron safeStorage (gnome_libsecret)", "key file"). */
  readonly backend: string;
  encrypt(plain: string): Buffer;
  decrypt(data: Buffer): string;
}

/** The part of Electron's safeStorage we use (typed here so core code never imports electron). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(data: Buffer): string;
  getSelectedStorageBackend?(): string;
}

export function safeStorageCipher(safeStorage: SafeStorageLike): SecretCipher {
  const backend = safeStorage.getSelectedStorageBackend?.();
  return {
    backend: `Electron safeStorage${backend ? ` (${backend})` : ''}`,
    encrypt: (plain) => safeStorage.encryptString(plain),
    decrypt: (data) => safeStorage.decryptString(data),
  };
}

const KEY_FILE = 'secrets.key';
const VERSION = 1;

/** AES-256-GCM with a 32-byte key: [version, 12-byte IV, 16-byte tag, ciphertext]. */
export function aesCipher(key: Buffer, backend: string): SecretCipher {
  if (key.length !== 32) throw new Error('the secrets key must be 32 bytes');
  return {
    backend,
    encrypt(plain) {
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, c.getAuthTag(), body]);
    },
    decrypt(data) {
      if (data[0] !== VERSION || data.length < 29) throw new Error('not a secret this app wrote');
      const d = crypto.createDecipheriv('aes-256-gcm', key, data.subarray(1, 13));
      d.setAuthTag(data.subarray(13, 29));
      return Buffer.concat([d.update(data.subarray(29)), d.final()]).toString('utf8');
    },
  };
}

interface KeyringEntry {
  getPassword(): string | null | undefined;
  setPassword(value: string): void;
}

/**
 * This data folder's key from the OS keyring (made and stored there on first use), or null when no keyring answers
 * (headless Linux without a Secret Service, CI): reading an absent entry succeeds there, storing fails.
 */
function keyringKey(dataDir: string, env: NodeJS.ProcessEnv): Buffer | null {
  if (env.DISTILLERY_NO_KEYRING === '1') return null;
  try {
    const { Entry } = createRequire(import.meta.url)('@napi-rs/keyring') as { Entry: new (service: string, account: string) => KeyringEntry };
    const account = crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
    const entry = new Entry('Distillery', `secrets-key-${account}`);
    let stored = entry.getPassword();
    if (!stored) {
      entry.setPassword(crypto.randomBytes(32).toString('base64'));
      stored = entry.getPassword(); // read back: a keyring that accepted nothing must not leave us with a lost key
    }
    const key = stored ? Buffer.from(stored, 'base64') : null;
    return key?.length === 32 ? key : null;
  } catch {
    return null;
  }
}

/**
 * The cipher for `serve` and the CLI: the data folder's key from the OS keyring, else from `secrets.key` (mode 0600).
 * A key file that already exists wins, so a folder keeps working when a keyring appears or disappears. `env` is where
 * DISTILLERY_NO_KEYRING=1 (no keyring: the key file) is read.
 */
export function localCipher(dataDir: string, env: NodeJS.ProcessEnv = process.env): SecretCipher {
  const file = path.join(dataDir, KEY_FILE);
  if (fs.existsSync(file)) return aesCipher(readKeyFile(file), `key file ${file}`);
  const fromKeyring = keyringKey(dataDir, env);
  if (fromKeyring) return aesCipher(fromKeyring, 'OS keyring');
  const key = crypto.randomBytes(32);
  fs.mkdirSync(dataDir, { recursive: true });
  // wx: never overwrite a key another process wrote a moment ago (it would orphan its secrets)
  try {
    fs.writeFileSync(file, key.toString('base64'), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return aesCipher(readKeyFile(file), `key file ${file}`);
  }
  return aesCipher(key, `key file ${file}`);
}

function readKeyFile(file: string): Buffer {
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} is not a secrets key (expected 32 bytes, base64)`);
  return key;
}
