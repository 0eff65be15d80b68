import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { JobContext, JobKind } from '../../jobs/types.js';
import type { RunsStore } from '../../runs/store.js';
import type { AdaptersService } from '../service.js';
import { ADAPTER_WEIGHTS, findTrainingManifest, type ManifestLink } from '../watch-folder.js';
import { WATCH_TIMING, waitForAdapter, type CompleteAdapter, type WatchTiming } from '../watch-wait.js';
import type { JobItem } from '../../../../src-shared/contract/index.js';
import type { AdapterEntry } from '../../../../src-shared/domain/adapters.js';
import { AppError, isAppError } from '../../../../src-shared/errors.js';

export interface WatchJobDeps {
  adapters: AdaptersService;
  /** The runs table: this run's and earlier watch runs' items, and the export run a manifest names. */
  runs: RunsStore;
  timing?: WatchTiming;
}

/** The run kind a training folder's manifest must name for the adapter to be linked to it. */
export const TRAINING_EXPORT_KIND = 'training.export';
const NAME_TRIES = 100;

type Imported = NonNullable<JobItem<'adapters.watch'>>;

/**
 * "adapters.watch": waits for a trainer's PEFT adapter below `dir`, imports it once it is complete (the `imported`
 * item: never twice, and never a file already imported), and links it to the training export it came from.
 */
export function watchJob(d: WatchJobDeps): JobKind<'adapters.watch'> {
  const timing = d.timing ?? WATCH_TIMING;
  return {
    kind: 'adapters.watch',
    waits: true,
    title: (c) => `Watch ${c.dir} for an adapter of ${c.base.name}`,
    async run(ctx) {
      const c = ctx.config;
      ctx.lineage('input', 'file', c.dir, path.basename(c.dir) || c.dir);
      ctx.lineage('input', 'model', String(c.base.id), c.base.name);
      const before = d.runs.itemResults(ctx.runId, 'adapters.watch')[0];
      if (before) {
        // an earlier attempt imported it: only its links are recorded again (they are idempotent)
        linkExport(ctx, d.runs, before.folder);
        linkOutput(ctx, d.adapters, before.adapterId);
        return;
      }
      const deadline = c.timeoutMinutes === null ? null : Date.now() + c.timeoutMinutes * 60_000;
      const logged = new Set<string>();
      for (;;) {
        const found = await waitForAdapter(c.dir, {
          signal: ctx.signal,
          timing,
          deadline,
          waiting: (key, why) => {
            ctx.progress(0, null, why);
            if (!logged.has(key)) ctx.log('info', `Waiting: ${why}.`);
            logged.add(key);
          },
        });
        const file = path.join(found.folder, ADAPTER_WEIGHTS);
        ctx.progress(0, null, `hashing ${path.relative(c.dir, file)}`);
        const sha256 = await sha256File(file, ctx.signal);
        if (changedSince(found)) {
          ctx.log('warn', `${file} changed while it was read; waiting for it again.`);
          continue;
        }
        const link = linkExport(ctx, d.runs, found.folder);
        const item = { folder: found.folder, file, bytes: found.weights.size, sha256 };
        const known = alreadyImported(d, item, found.weights.mtimeMs);
        if (known) {
          ctx.commitItem('imported', undefined, { ...item, adapterId: known.id, imported: false });
          ctx.log('info', `${file} is already in the library as adapter ${known.id} (${known.name}): linked, not imported again.`);
          linkOutput(ctx, d.adapters, known.id);
          return;
        }
        ctx.progress(0, null, `importing ${path.relative(c.dir, found.folder) || path.basename(found.folder)}`);
        const entry = d.adapters.import({
          path: found.folder,
          baseModelId: c.base.id,
          name: c.name ?? freeName(d.adapters, defaultName(c.dir, found.folder, link)),
          note: noteOf(ctx.runId, found.folder, link),
        });
        if (changedSince(found)) {
          d.adapters.remove(entry.id);
          ctx.log('warn', `${file} changed while it was converted: the conversion was dropped; waiting for the adapter again.`);
          continue;
        }
        ctx.commitItem('imported', undefined, { ...item, adapterId: entry.id, imported: true });
        ctx.metric('adapter_bytes', item.bytes);
        ctx.log(
          'info',
          `Imported ${found.folder} as adapter ${entry.id} (${entry.name}): ${entry.tensorCount} tensors, rank ${entry.rank}, alpha ${entry.alpha}.`,
        );
        linkOutput(ctx, d.adapters, entry.id);
        ctx.progress(1, 1, `imported as adapter ${entry.id} (${entry.name})`);
        return;
      }
    },
  };
}

/** Links the run to the export (and its dataset version) named by the training manifest above the adapter, if any. */
function linkExport(ctx: JobContext<'adapters.watch'>, runs: RunsStore, folder: string): ManifestLink | null {
  const found = findTrainingManifest(folder, ctx.config.dir);
  if (!found) return null;
  if ('error' in found) {
    ctx.log('warn', `${found.file} does not read (${found.error}): the adapter is not linked to an export.`);
    return null;
  }
  const m = found.manifest;
  const kind = runs.kindOf(m.runId);
  if (kind !== TRAINING_EXPORT_KIND) {
    const what = kind === null ? 'is not in this library' : `is a ${kind} run, not a training export`;
    ctx.log('warn', `${found.file} names export run ${m.runId}, which ${what}: the adapter is not linked to it.`);
    return m;
  }
  ctx.lineage('input', 'run', String(m.runId), `training export run ${m.runId} (${m.trainer})`);
  ctx.lineage('input', 'dataset', m.dataset.name, `${m.dataset.name}@${m.dataset.version}`);
  return m;
}

function linkOutput(ctx: JobContext<'adapters.watch'>, adapters: AdaptersService, id: number): void {
  const a = get(adapters, id);
  ctx.lineage('output', 'adapter', String(id), a?.name ?? `adapter ${id}`);
}

function get(adapters: AdaptersService, id: number): AdapterEntry | null {
  try {
    return adapters.get(id);
  } catch (e) {
    if (isAppError(e) && e.code === 'not_found') return null;
    throw e;
  }
}

/**
 * An adapter of the library made from this very file: one an earlier watch run imported (same path, size and sha256),
 * or one converted from the same folder after the file last changed (an import by hand, or a run that died between
 * converting and committing).
 */
function alreadyImported(d: WatchJobDeps, item: Omit<Imported, 'adapterId' | 'imported'>, mtimeMs: number): AdapterEntry | null {
  for (const { result } of d.runs.itemResultsOfKind('adapters.watch', 'imported')) {
    if (result.file !== item.file || result.sha256 !== item.sha256 || result.bytes !== item.bytes) continue;
    const a = get(d.adapters, result.adapterId);
    if (a) return a;
  }
  const same = d.adapters
    .list()
    .filter((a) => a.source.format === 'peft' && a.source.path === item.folder && Date.parse(a.addedAt) >= mtimeMs)
    .sort((a, b) => b.id - a.id);
  return same[0] ?? null;
}

function changedSince(found: CompleteAdapter): boolean {
  try {
    const st = fs.statSync(path.join(found.folder, ADAPTER_WEIGHTS));
    return st.size !== found.weights.size || st.mtimeMs !== found.weights.mtimeMs;
  } catch {
    return true;
  }
}

/** "dataset-v3-axolotl" from the export; else the watched folder's name (with the checkpoint's, when it is one). */
function defaultName(dir: string, folder: string, link: ManifestLink | null): string {
  const base = link ? `${link.dataset.name}-v${link.dataset.version}-${link.trainer}` : path.basename(dir) || 'adapter';
  const checkpoint = /^checkpoint-\d+$/.test(path.basename(folder)) ? `-${path.basename(folder)}` : '';
  return `${base}${checkpoint}`.slice(0, 190);
}

function freeName(adapters: AdaptersService, wanted: string): string {
  const taken = new Set(adapters.list().map((a) => a.name));
  for (let i = 1; i <= NAME_TRIES; i++) {
    const name = i === 1 ? wanted : `${wanted}-${i}`;
    if (!taken.has(name)) return name;
  }
  throw new AppError('conflict', `adapters named ${wanted} to ${wanted}-${NAME_TRIES} are all in the library: give the adapter a name`, 'name');
}

function noteOf(runId: number, folder: string, link: ManifestLink | null): string {
  const from = link ? `Trained by ${link.trainer} from export run ${link.runId} (${link.dataset.name}@${link.dataset.version})` : `Trained outside the app`;
  return `${from}; imported by watch run ${runId} from ${folder}.`;
}

async function sha256File(file: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
