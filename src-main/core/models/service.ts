import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import type { Emit } from '../events.js';
import { inspectGguf } from '../gguf/inspect.js';
import { ModelsStore, type ModelRow } from './store.js';
import { AppError } from '../../../src-shared/errors.js';
import type { ModelEntry, ModelInspection, ModelRole, ModelStatus } from '../../../src-shared/domain/models.js';

/** The model library: GGUF files the user pointed us at, with what their headers say. */
export class ModelsService {
  readonly store: ModelsStore;

  constructor(
    db: Db,
    private readonly emit: Emit,
  ) {
    this.store = new ModelsStore(db);
    for (const m of this.store.withoutRealPath()) this.store.setRealPath(m.id, realOrSame(m.path));
  }

  /** The model that is this file, by path or by real path (a symlink to a listed file is that model). */
  findByFile(filePath: string): number | null {
    const absolute = path.resolve(filePath);
    return this.store.idByPath(absolute, realOrSame(absolute));
  }

  list(): ModelEntry[] {
    return this.store.all().map(withStatus);
  }

  get(id: number): ModelEntry {
    return withStatus(this.row(id));
  }

  async inspect(filePath: string): Promise<ModelInspection> {
    const absolute = path.resolve(filePath);
    const { sizeBytes, summary } = await inspectGguf(absolute);
    return { path: absolute, sizeBytes, summary, existingId: this.findByFile(absolute) };
  }

  async add(filePath: string, roles: ModelRole[] = [], note = ''): Promise<ModelEntry> {
    const absolute = path.resolve(filePath);
    const real = realOrSame(absolute);
    const existing = this.store.idByPath(absolute, real);
    if (existing !== null) {
      const same = this.store.byId(existing)!;
      throw new AppError(
        'conflict',
        same.path === absolute
          ? `${path.basename(absolute)} is already in the library (model ${existing})`
          : `${absolute} is the same file as ${same.path}, already in the library (model ${existing})`,
      );
    }
    const { sizeBytes, mtimeMs, summary } = await inspectGguf(absolute);
    if (summary.fileKind !== 'model') {
      throw new AppError(
        'invalid_input',
        `${path.basename(absolute)} is a GGUF ${summary.fileKind} (general.type), not a model; LoRA adapters are added in Adapters`,
        'path',
      );
    }
    const id = this.store.insert(
      {
        path: absolute,
        name: path.basename(absolute).replace(/\.gguf$/i, ''),
        sizeBytes,
        mtimeMs,
        summary,
        roles: [...new Set(roles)],
        note,
        addedAt: nowIso(),
      },
      real,
    );
    this.emit('models.changed', { id });
    return this.get(id);
  }

  update(id: number, patch: { name?: string; roles?: ModelRole[]; note?: string }): ModelEntry {
    this.row(id);
    this.store.update(id, patch);
    this.emit('models.changed', { id });
    return this.get(id);
  }

  /** Forgets the entry. The user's file is never touched. */
  remove(id: number): { removed: true } {
    if (!this.store.delete(id)) throw new AppError('not_found', `there is no model ${id} in the library`);
    this.emit('models.changed', { id });
    return { removed: true };
  }

  /** The file to load for a model id, refusing a file that disappeared. */
  resolveForEngine(id: number): { path: string; name: string } {
    const m = this.row(id);
    if (!fs.existsSync(m.path)) {
      throw new AppError('file_missing', `${m.name}'s file ${m.path} no longer exists; add it again from its new place`);
    }
    return { path: m.path, name: m.name };
  }

  private row(id: number): ModelRow {
    const m = this.store.byId(id);
    if (!m) throw new AppError('not_found', `there is no model ${id} in the library`);
    return m;
  }
}

/** `file` with its symlinks resolved, or as given when it cannot be (missing: inspecting it says why). */
function realOrSame(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

function statusOf(m: ModelRow): ModelStatus {
  try {
    const st = fs.statSync(m.path);
    if (!st.isFile()) return 'missing';
    return st.size === m.sizeBytes && Math.abs(st.mtimeMs - m.mtimeMs) < 1 ? 'ok' : 'changed';
  } catch {
    return 'missing';
  }
}

function withStatus(m: ModelRow): ModelEntry {
  return {
    id: m.id,
    name: m.name,
    path: m.path,
    sizeBytes: m.sizeBytes,
    addedAt: m.addedAt,
    roles: m.roles,
    note: m.note,
    summary: m.summary,
    status: statusOf(m),
  };
}
