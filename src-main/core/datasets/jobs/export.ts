import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { JobKind } from '../../jobs/types.js';
import type { DatasetsStore } from '../store.js';
import { toRecord, unrepresentable } from '../formats/denormalize.js';
import { createParquetWriter } from '../formats/parquet-export.js';
import { SPLITS, type ExportSplit, type Split } from '../../../../src-shared/domain/datasets.js';
import { toExampleRow } from '../store.js';
import { checkOutputPath } from '../../files/output-path.js';

const PAGE = 5000;

/** `data/x.jsonl` + `train` → `data/x.train.jsonl` */
export function splitFile(out: string, split: Split): string {
  const ext = path.extname(out);
  return `${out.slice(0, out.length - ext.length)}.${split}${ext}`;
}

/** The files an export writes: its data files (one per split with examples for `each`), then the manifest. */
export function exportTargets(out: string, split: ExportSplit, counts: Record<Split | 'none', number>): { split: Split | 'all'; file: string }[] {
  return split === 'all'
    ? [{ split: 'all', file: out }]
    : split === 'each'
      ? SPLITS.filter((s) => counts[s] > 0).map((s) => ({ split: s, file: splitFile(out, s) }))
      : [{ split, file: out }];
}

export const manifestFile = (out: string) => `${out}.manifest.json`;

interface Written {
  split: Split | 'all';
  file: string;
  examples: number;
  bytes: number;
  sha256: string;
}

/**
 * "Export a dataset version" as JSONL or Parquet in a training format, all examples or per split, with a manifest
 * beside it (source dataset and version, counts per split, content hashes). Each file is written under a temporary
 * name and renamed at the end, so a file at its final name is always whole; a resumed export writes them again.
 */
export function exportJob(store: DatasetsStore, dataDir: string): JobKind<'datasets.export'> {
  return {
    kind: 'datasets.export',
    title: (c) => `Export ${c.name}@${c.version} as ${c.format} ${c.container}${c.split === 'all' ? '' : ` (${c.split === 'each' ? 'per split' : c.split})`}`,
    async run(ctx) {
      const { name, version, versionId, format, container, split, out, replace } = ctx.config;
      ctx.lineage('input', 'dataset', name, `${name}@${version}`);
      const counts = store.splitCounts(versionId);
      const targets = exportTargets(out, split, counts);
      // Checked again as the run writes (it may be resumed long after it was submitted): the files this run wrote
      // itself in an earlier attempt may be written again; anything else follows the user's choice.
      const mine = ctx.doneItems();
      const check = (file: string) => checkOutputPath(file, { dataDir, replace: replace || mine.has(`file:${file}`), field: 'out' });
      for (const f of [...targets.map((t) => t.file), manifestFile(out)]) check(f);
      if (split === 'each' && counts.none > 0) ctx.log('warn', `${counts.none} example(s) are in no split and are not exported; split the dataset first.`);
      const total = targets.reduce((n, t) => n + (t.split === 'all' ? store.versionSize(versionId) : counts[t.split]), 0);
      const written: Written[] = [];
      const withChatFields = container === 'parquet' && store.usesChatFields(versionId);
      // examples the format cannot hold (tools in Alpaca): left out, counted and named in the log, never silently
      const refused = new Map<string, number[]>();
      let done = 0;
      for (const t of targets) {
        const tmp = ctx.tempFile(`${t.file}.partial`);
        const hash = createHash('sha256');
        let examples = 0;
        const parquet = container === 'parquet' ? createParquetWriter(tmp, format, { withChatFields }) : null;
        const fd = container === 'jsonl' ? fs.openSync(tmp, 'w') : null;
        try {
          let after = Number.MIN_SAFE_INTEGER;
          for (;;) {
            ctx.throwIfCancelled();
            const rows = store.pageAfter(versionId, after, PAGE, t.split === 'all' ? undefined : t.split);
            if (rows.length === 0) break;
            const records = rows.flatMap((r) => {
              const e = toExampleRow(r);
              const why = unrepresentable(format, e);
              if (why) refused.set(why, [...(refused.get(why) ?? []), r.position]);
              return why ? [] : [toRecord(format, e)];
            });
            if (fd !== null) {
              const buf = Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + '\n');
              fs.writeSync(fd, buf);
              hash.update(buf);
            } else parquet!.write(records);
            examples += records.length;
            done += rows.length;
            after = rows.at(-1)!.position;
            ctx.progress(done, total, `${done} of ${total} examples`);
            await new Promise((r) => setImmediate(r)); // keep the app responsive between pages
          }
          if (parquet) await parquet.close();
        } finally {
          if (fd !== null) fs.closeSync(fd);
        }
        if (ctx.signal.aborted) {
          fs.rmSync(tmp, { force: true });
          ctx.throwIfCancelled();
        }
        if (parquet) hash.update(fs.readFileSync(tmp));
        check(t.file);
        fs.renameSync(tmp, t.file);
        ctx.releaseTemp(tmp);
        ctx.commitItem(`file:${t.file}`);
        written.push({ split: t.split, file: t.file, examples, bytes: fs.statSync(t.file).size, sha256: hash.digest('hex') });
        ctx.lineage('output', 'file', t.file, path.basename(t.file));
      }
      const single = written.length === 1 ? written[0]! : null;
      const manifest = {
        dataset: name,
        version,
        format,
        container,
        split,
        examples: written.reduce((n, w) => n + w.examples, 0),
        ...(refused.size ? { skipped: Object.fromEntries([...refused].map(([why, positions]) => [why, positions.length])) } : {}),
        ...(single ? { bytes: single.bytes, sha256: single.sha256 } : {}),
        splits: Object.fromEntries(written.map((w) => [w.split, w.examples])),
        files: written.map((w) => ({ split: w.split, file: path.basename(w.file), examples: w.examples, bytes: w.bytes, sha256: w.sha256 })),
        exportedAt: new Date().toISOString(),
        run: ctx.runId,
        tool: 'distillery',
      };
      // Written whole or not at all: a tool watching for the manifest never reads half of it.
      const manifestTmp = ctx.tempFile(`${manifestFile(out)}.partial`);
      fs.writeFileSync(manifestTmp, JSON.stringify(manifest, null, 2) + '\n');
      check(manifestFile(out));
      fs.renameSync(manifestTmp, manifestFile(out));
      ctx.releaseTemp(manifestTmp);
      ctx.commitItem(`file:${manifestFile(out)}`);
      ctx.metric('examples', manifest.examples);
      ctx.metric(
        'bytes',
        written.reduce((n, w) => n + w.bytes, 0),
      );
      for (const [why, positions] of refused) {
        const some = positions.slice(0, 10).join(', ') + (positions.length > 10 ? ', …' : '');
        ctx.log('warn', `${positions.length} example(s) not exported: ${why} (positions ${some}); export them as openai or sharegpt.`);
      }
      if (refused.size)
        ctx.metric(
          'examples_skipped',
          [...refused.values()].reduce((n, p) => n + p.length, 0),
        );
      ctx.log('info', `Wrote ${manifest.examples} examples to ${written.map((w) => path.basename(w.file)).join(', ')}.`);
    },
  };
}
