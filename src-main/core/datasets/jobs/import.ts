import path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { JobContext, JobKind } from '../../jobs/types.js';
import { SEARCH_FILE } from '../../store/search-db.js';
import { nowIso } from '../../store/db.js';
import { workerEntry } from '../../worker-entry.js';
import { SOURCE_STRIDE, type DatasetsStore, type ImportTarget } from '../store.js';
import type { FromWorker, ToWorker, WorkerData } from './import-worker.js';
import { AppError, type ErrorCode } from '../../../../src-shared/errors.js';

const BATCH = 2000;
/** A batch also ends at this many characters of messages, so a file of long records does not make huge batches. */
const BATCH_BYTES = 4_000_000;

interface Counts {
  lines: number;
  imported: number;
  rejected: number;
}

/**
 * "Import a dataset": streams a file into version 1 of a new dataset (or the next version of one, for an append),
 * committing a batch of lines at a time with the lines it rejected. Reading and the full-text index run on two worker
 * threads while this thread inserts (a pipeline over two cores and two SQLite files). The dataset
 * or version stays hidden ('importing') until the end; a resumed run continues after the last committed line (and
 * indexes what the last attempt committed but did not index); a cancelled one is removed whole.
 */
export function importJob(store: DatasetsStore): JobKind<'datasets.import'> {
  return {
    kind: 'datasets.import',
    title: (c) => `${c.append ? 'Add' : 'Import'} ${path.basename(c.file)} ${c.append ? 'to' : 'as'} ${c.name}`,
    async run(ctx) {
      const { file, name, spec, append } = ctx.config;
      const how = spec.record ?? (spec.mapping ? `columns ${spec.mapping.prompt}${spec.mapping.response ? ` → ${spec.mapping.response}` : ''}` : 'prompts');
      const message = `${append ? 'Added' : 'Imported from'} ${path.basename(file)} (${spec.container}, ${how})`;
      const target =
        store.importTarget(ctx.runId) ??
        ctx.db.transaction(() => {
          if (!append) return store.createImporting(name, message, ctx.runId, nowIso(), file);
          const d = store.byName(name);
          if (!d || d.state !== 'ready') throw new AppError('not_found', `there is no dataset named ${name} to add to`);
          return store.createAppending(d.id, message, ctx.runId, nowIso(), file);
        })();
      const after = store.lastImportedLine(ctx.runId, target);
      if (after > 0) ctx.log('info', `Resuming after line ${after}.`);
      const indexed = store.indexedLine(ctx.runId);
      if (indexed < after) ctx.db.transaction(() => store.indexLines(target, ctx.runId, indexed + 1, after))();
      ctx.lineage('input', 'file', file, path.basename(file));
      try {
        const counts: Counts = { lines: after, imported: 0, rejected: 0 };
        await importInWorkers(ctx, store, target, after, workerEntry(import.meta.url, 'import-worker'), counts);
        ctx.throwIfCancelled();
        const totalRejected = store.rejects(ctx.runId, 1_000_000).length;
        if (importedBy(ctx, target) === 0) {
          // "succeeded" means something was imported: nothing is not a dataset (or a version) worth keeping
          const first = store.rejects(ctx.runId, 1)[0];
          store.discardImport(ctx.runId, true);
          const why = first ? `all ${totalRejected} record(s) were rejected (line ${first.line}: ${first.reason})` : 'it holds no records';
          ctx.progress(counts.lines, counts.lines, `0 examples, ${totalRejected} rejected`);
          throw new AppError('invalid_input', `nothing imported from ${path.basename(file)}: ${why}`, 'path');
        }
        const count = ctx.db.transaction(() => store.finishImport(target))();
        ctx.metric('examples', count);
        ctx.metric('rejected', totalRejected);
        ctx.lineage('output', 'dataset', name, `${name}@${store.versions(target.datasetId).find((v) => v.id === target.versionId)!.number}`);
        ctx.progress(counts.lines, counts.lines, `${count} examples, ${totalRejected} rejected`);
        ctx.log(totalRejected ? 'warn' : 'info', `Imported ${count} examples; ${totalRejected} line(s) rejected.`);
      } catch (e) {
        // A user's cancel leaves no partial dataset; a shutdown leaves it to resume.
        if (ctx.cancelledByUser()) store.discardImport(ctx.runId);
        throw e;
      }
    },
  };
}

/** Examples this import added (an append's version also holds the previous ones, at other positions). */
const importedBy = (ctx: JobContext<'datasets.import'>, target: ImportTarget) =>
  ctx.db
    .prepare(`SELECT count(*) FROM version_examples WHERE version_id = ? AND position >= ? AND position < ?`)
    .pluck()
    .get(target.versionId, target.base, target.base + SOURCE_STRIDE) as number;

const report = (ctx: JobContext<'datasets.import'>, c: Counts) => ctx.progress(c.lines, null, `${c.imported} examples, ${c.rejected} rejected`);

/** A worker thread as a queue of messages, failing when it errors or stops unexpectedly. */
class WorkerChannel {
  private readonly inbox: FromWorker[] = [];
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private ended = false;

  constructor(
    readonly worker: Worker,
    private readonly name: string,
    file: string,
  ) {
    worker.on('message', (m: FromWorker) => {
      this.inbox.push(m);
      this.notify();
    });
    worker.on('error', (e: Error & { code?: string }) => {
      // a file whose records need more than the thread's memory (or a damaged one that claims so): said in words
      const why = `the import's ${name} thread ran out of memory; the file may be damaged, or hold a record too large to import`;
      this.failure = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new AppError('invalid_input', `${file}: ${why}`) : e;
      this.notify();
    });
    worker.on('exit', (code) => {
      if (code !== 0 && !this.failure && !this.ended) this.failure = new Error(`the import's ${name} thread stopped (exit code ${code})`);
      this.notify();
    });
  }

  notify(): void {
    this.wake?.();
    this.wake = null;
  }

  /** The next message; throws the worker's error. */
  async next(signal: AbortSignal): Promise<FromWorker> {
    for (;;) {
      signal.throwIfAborted();
      const m = this.inbox.shift();
      if (m?.type === 'error') throw new AppError(m.code as ErrorCode, m.message, m.field);
      if (m) return m;
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  async stop(): Promise<void> {
    this.ended = true;
    await this.worker.terminate();
  }
}

/** At most this many batches are read ahead of the inserts, or inserted ahead of the index: memory stays flat. */
const AHEAD = 3;

async function importInWorkers(
  ctx: JobContext<'datasets.import'>,
  store: DatasetsStore,
  target: ImportTarget,
  after: number,
  entry: URL,
  counts: Counts,
): Promise<void> {
  // Small heaps (a few batches in flight need little, and each worker's heap counts in the app's memory); the reader's
  // leaves room for a batch of the longest records (BATCH_BYTES) and one line at the size limit.
  const start = (data: WorkerData, name: string, oldMb: number, youngMb: number) =>
    new WorkerChannel(
      new Worker(entry, {
        workerData: data,
        transferList: data.texts ? [data.texts] : [],
        resourceLimits: { maxOldGenerationSizeMb: oldMb, maxYoungGenerationSizeMb: youngMb },
      }),
      name,
      path.basename(ctx.config.file),
    );
  // The texts to index go from the reader to the indexer directly; only ids pass through this thread.
  const texts = new MessageChannel();
  const reader = start(
    { role: 'read', file: ctx.config.file, spec: ctx.config.spec, after, batchSize: BATCH, batchBytes: BATCH_BYTES, maxAhead: AHEAD, texts: texts.port1 },
    'reading',
    128,
    8,
  );
  const indexer = start(
    { role: 'index', searchFile: path.join(path.dirname(ctx.db.name), SEARCH_FILE), runId: ctx.runId, texts: texts.port2 },
    'indexing',
    64,
    4,
  );
  const onAbort = () => {
    reader.notify();
    indexer.notify();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  let indexing = 0;
  try {
    for (;;) {
      const m = await reader.next(ctx.signal);
      if (m.type === 'done') break;
      if (m.type !== 'batch') continue;
      let ids: number[] = [];
      const [from, to] = [m.first, m.last];
      ctx.commitItem(`lines-${from}-${to}`, () => {
        ids = store.insertPrepared(target, ctx.runId, m.batch);
      });
      // Hand the texts to the indexer; read on only while it keeps up.
      while (indexing >= AHEAD) if ((await indexer.next(ctx.signal)).type === 'indexed') indexing--;
      indexer.post({ type: 'index', seq: m.seq, ids, lastLine: to });
      indexing++;
      reader.post({ type: 'ack' });
      counts.lines = to;
      counts.imported += m.batch.lines.length;
      counts.rejected += m.batch.rejects.length;
      report(ctx, counts);
    }
    indexer.post({ type: 'finish' });
    while ((await indexer.next(ctx.signal)).type !== 'closed');
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await Promise.all([reader.stop(), indexer.stop()]);
  }
}
