import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import type { ModelsService } from '../models/service.js';
import type { Emit } from '../events.js';
import { checkCompatibility, inspectAdapter } from './inspect.js';
import { convertPeftAdapter } from './peft.js';
import { TempFiles, processKey } from '../jobs/temp-files.js';
import type { AdapterEntry, AttachedAdapter } from '../../../src-shared/domain/adapters.js';
import { AppError, isAppError } from '../../../src-shared/errors.js';
import { withFileErrors } from '../files/errors.js';

interface Row {
  id: number;
  name: string;
  path: string;
  source_format: 'gguf' | 'peft';
  source_path: string;
  owned: number;
  arch: string;
  rank: number;
  alpha: number;
  targets: string;
  layers: number;
  tensor_count: number;
  size_bytes: number;
  base_model_id: number | null;
  base_checked_at: string | null;
  note: string;
  added_at: string;
  base_name: string | null;
}

/** An adapter resolved for the engine: its file and scale, plus what lineage and labels need. */
export interface ResolvedAdapter {
  id: number;
  name: string;
  filePath: string;
  scale: number;
}

/**
 * The adapter library: GGUF LoRA files added as they are, PEFT folders converted to GGUF into the data folder, each
 * checked against a base model before the engine sees it (a mismatch is refused with the tensor and shapes named,
 * never a crash inside llama.cpp).
 */
export class AdaptersService {
  /** Compatibility verdicts already reached (adapter file + mtime + base file + mtime → null when it fits, else why not). */
  private readonly verdicts = new Map<string, AppError | null>();

  constructor(
    private readonly db: Db,
    private readonly models: ModelsService,
    private readonly dataDir: string,
    private readonly emit: Emit,
  ) {}

  list(): AdapterEntry[] {
    return (this.db.prepare(`${SELECT} ORDER BY a.name COLLATE NOCASE`).all() as Row[]).map(toEntry);
  }

  get(id: number): AdapterEntry {
    return toEntry(this.row(id));
  }

  import(input: { path: string; baseModelId?: number | undefined; name?: string | undefined; note: string }): AdapterEntry {
    const source = path.resolve(input.path);
    const stat = withFileErrors(source, () => fs.statSync(source, { throwIfNoEntry: false }), 'path');
    if (!stat) throw new AppError('file_missing', `there is nothing at ${source}`, 'path');
    const base = input.baseModelId !== undefined ? { id: input.baseModelId, ...this.models.resolveForEngine(input.baseModelId) } : null;
    const name = (input.name ?? path.basename(source).replace(/\.gguf$/i, '')).trim();
    if (this.db.prepare(`SELECT 1 FROM adapters WHERE name = ?`).get(name))
      throw new AppError('conflict', `an adapter named ${name} is already in the library`, 'name');

    let file = source;
    let format: 'gguf' | 'peft' = 'gguf';
    if (stat.isDirectory()) {
      format = 'peft';
      if (!base) {
        throw new AppError(
          'invalid_input',
          `${path.basename(source)} is a PEFT folder: choose its base model, whose architecture and head counts the conversion needs`,
          'baseModelId',
        );
      }
      const dir = path.join(this.dataDir, 'adapters');
      fs.mkdirSync(dir, { recursive: true });
      file = path.join(dir, `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}-${Date.now().toString(36)}.gguf`);
      try {
        const temps = new TempFiles(this.db);
        convertPeftAdapter(
          source,
          file,
          { file: base.path },
          { tempFile: (f) => temps.record(processKey(), f), releaseTemp: (f) => temps.release(processKey(), f) },
        );
      } catch (e) {
        fs.rmSync(file, { force: true });
        throw e;
      }
    } else {
      const existing = this.db.prepare(`SELECT name FROM adapters WHERE path = ?`).pluck().get(source) as string | undefined;
      if (existing) throw new AppError('conflict', `${path.basename(source)} is already in the library as ${existing}`, 'path');
    }
    try {
      const info = inspectAdapter(file);
      if (base) this.checkFiles(file, base.path, name);
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO adapters (name, path, source_format, source_path, owned, arch, rank, alpha, targets, layers, tensor_count, size_bytes, base_model_id, base_checked_at, note, added_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            name,
            file,
            format,
            source,
            format === 'peft' ? 1 : 0,
            info.arch,
            info.rank,
            info.alpha ?? info.rank,
            JSON.stringify(info.targets),
            info.layers.length,
            info.tensorCount,
            info.sizeBytes,
            base?.id ?? null,
            base ? nowIso() : null,
            input.note,
            nowIso(),
          ).lastInsertRowid,
      );
      this.emit('adapters.changed', { id });
      return this.get(id);
    } catch (e) {
      if (format === 'peft') fs.rmSync(file, { force: true });
      throw e;
    }
  }

  /** Checks the adapter against a model and remembers it as the adapter's base. */
  check(id: number, modelId: number): { compatible: true } {
    const a = this.row(id);
    const base = this.models.resolveForEngine(modelId);
    this.checkFiles(this.existing(a), base.path, a.name);
    this.db.prepare(`UPDATE adapters SET base_model_id = ?, base_checked_at = ? WHERE id = ?`).run(modelId, nowIso(), id);
    this.emit('adapters.changed', { id });
    return { compatible: true };
  }

  /**
   * Whether each adapter of the library fits a model, with the reason when it does not (architecture, a tensor the
   * base lacks, shapes, tensor types): what the pickers show, greyed with the reason. Verdicts are cached per file
   * version, so asking again is cheap.
   */
  compatibility(modelId: number): { id: number; ok: boolean; reason: string | null }[] {
    const base = this.models.resolveForEngine(modelId);
    return (this.db.prepare(`SELECT * FROM adapters ORDER BY name COLLATE NOCASE`).all() as Row[]).map((a) => {
      if (!fs.existsSync(a.path)) return { id: a.id, ok: false, reason: `its file ${a.path} no longer exists` };
      const refused = this.verdict(a.path, base.path, a.name);
      return { id: a.id, ok: refused === null, reason: refused?.message ?? null };
    });
  }

  remove(id: number): { removed: true } {
    const a = this.row(id);
    this.db.prepare(`DELETE FROM adapters WHERE id = ?`).run(id);
    if (a.owned) fs.rmSync(a.path, { force: true }); // a file we converted; the user's own files are never touched
    this.emit('adapters.changed', { id });
    return { removed: true };
  }

  /** Adapter files for a model, each checked against it: what the engine may safely load. */
  resolveForEngine(modelId: number, attached: AttachedAdapter[]): ResolvedAdapter[] {
    if (attached.length === 0) return [];
    const base = this.models.resolveForEngine(modelId);
    const seen = new Set<number>();
    return attached.map((x) => {
      if (seen.has(x.id)) throw new AppError('invalid_input', `adapter ${x.id} is attached twice; give it one scale`, 'adapters');
      seen.add(x.id);
      const a = this.row(x.id);
      const file = this.existing(a);
      this.checkFiles(file, base.path, a.name);
      return { id: a.id, name: a.name, filePath: file, scale: x.scale };
    });
  }

  private checkFiles(adapterFile: string, baseFile: string, label: string): void {
    const refused = this.verdict(adapterFile, baseFile, label);
    if (refused) throw refused;
  }

  /** null when the adapter fits the base, else the error saying why (a file that cannot be read is a reason too). */
  private verdict(adapterFile: string, baseFile: string, label: string): AppError | null {
    const key = `${adapterFile}:${fs.statSync(adapterFile).mtimeMs}|${baseFile}:${fs.statSync(baseFile).mtimeMs}|${label}`;
    const known = this.verdicts.get(key);
    if (known !== undefined) return known;
    let refused: AppError | null = null;
    try {
      checkCompatibility(adapterFile, baseFile, label);
    } catch (e) {
      if (!isAppError(e)) throw e;
      refused = e;
    }
    this.verdicts.set(key, refused);
    return refused;
  }

  private existing(a: Row): string {
    if (!fs.existsSync(a.path)) throw new AppError('file_missing', `${a.name}'s file ${a.path} no longer exists; import it again`);
    return a.path;
  }

  private row(id: number): Row {
    const r = this.db.prepare(`${SELECT} WHERE a.id = ?`).get(id) as Row | undefined;
    if (!r) throw new AppError('not_found', `there is no adapter ${id} in the library`);
    return r;
  }
}

const SELECT = `SELECT a.*, m.name AS base_name FROM adapters a LEFT JOIN models m ON m.id = a.base_model_id`;

function toEntry(r: Row): AdapterEntry {
  return {
    id: r.id,
    name: r.name,
    path: r.path,
    source: { format: r.source_format, path: r.source_path },
    arch: r.arch,
    rank: r.rank,
    alpha: r.alpha,
    targets: JSON.parse(r.targets) as string[],
    layers: r.layers,
    tensorCount: r.tensor_count,
    sizeBytes: r.size_bytes,
    base: r.base_model_id !== null && r.base_name !== null ? { modelId: r.base_model_id, name: r.base_name, checkedAt: r.base_checked_at ?? '' } : null,
    note: r.note,
    addedAt: r.added_at,
    status: fs.existsSync(r.path) ? 'ok' : 'missing',
  };
}
