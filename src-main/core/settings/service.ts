import type { Db } from '../store/db.js';
import type { Emit } from '../events.js';
import type { Settings } from '../../../src-shared/contract/system.js';

const DEFAULTS: Settings = { inferenceThreads: null };

/** User settings, one JSON value per key in the `settings` table. */
export class SettingsService {
  constructor(
    private readonly db: Db,
    private readonly emit: Emit,
  ) {}

  get(): Settings {
    const rows = this.db.prepare(`SELECT key, value FROM settings`).all() as { key: string; value: string }[];
    const stored = Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value) as unknown]));
    return { ...DEFAULTS, ...(stored as Partial<Settings>) };
  }

  update(patch: Partial<Settings>): Settings {
    const put = this.db.prepare(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(patch)) if (value !== undefined) put.run(key, JSON.stringify(value));
    })();
    const settings = this.get();
    this.emit('settings.changed', settings);
    return settings;
  }
}
