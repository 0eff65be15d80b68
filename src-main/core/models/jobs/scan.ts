import fs from 'node:fs/promises';
import path from 'node:path';
import type { JobKind } from '../../jobs/types.js';
import type { ModelsService } from '../service.js';
import { AppError, isAppError } from '../../../../src-shared/errors.js';
import { fileError } from '../../files/errors.js';

/** Lists *.gguf files below a folder (symlinked folders are not followed, so loops cannot happen). */
export async function findGgufFiles(folder: string, recursive: boolean, signal: AbortSignal): Promise<string[]> {
  const st = await fs.stat(folder).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT' ? new AppError('file_missing', `${folder} does not exist`) : fileError(e, folder);
  });
  if (!st.isDirectory()) throw new AppError('not_a_file', `${folder} is not a folder`);
  const found: string[] = [];
  const pending = [folder];
  while (pending.length > 0) {
    signal.throwIfAborted();
    const dir = pending.pop()!;
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (recursive) pending.push(full);
      } else if ((e.isFile() || e.isSymbolicLink()) && /\.gguf$/i.test(e.name)) {
        found.push(full);
      }
    }
  }
  return found.sort();
}

/** "Scan a folder": adds every GGUF model below it; refused files are logged with their reason, never fatal. */
export function scanJob(models: ModelsService): JobKind<'models.scan'> {
  return {
    kind: 'models.scan',
    title: (c) => `Scan ${c.folder}`,
    async run(ctx) {
      const { folder, recursive } = ctx.config;
      ctx.lineage('input', 'file', folder, path.basename(folder) || folder);
      const files = await findGgufFiles(folder, recursive, ctx.signal);
      const done = ctx.doneItems();
      ctx.log('info', `Found ${files.length} .gguf file(s)${done.size ? `; ${done.size} handled before` : ''}.`);
      let added = 0;
      let refused = 0;
      for (const [i, file] of files.entries()) {
        ctx.throwIfCancelled();
        ctx.progress(i, files.length, path.basename(file));
        if (done.has(file)) continue;
        // Inspect before the transaction (async I/O); the add itself is one small insert.
        let outcome: string;
        try {
          const existing = models.findByFile(file);
          if (existing !== null) {
            outcome = `already in the library (model ${existing})`;
          } else {
            const entry = await models.add(file);
            ctx.lineage('output', 'model', String(entry.id), entry.name);
            outcome = `added as model ${entry.id}`;
            added++;
          }
        } catch (e) {
          if (!isAppError(e)) throw e;
          outcome = `skipped: ${e.message}`;
          refused++;
          ctx.log('warn', `${file}: ${e.message}`);
        }
        ctx.commitItem(file, undefined, { outcome });
      }
      ctx.progress(files.length, files.length, 'done');
      ctx.metric('models_added', added);
      ctx.metric('files_refused', refused);
      ctx.log('info', `Added ${added} model(s); ${refused} file(s) refused.`);
    },
  };
}
