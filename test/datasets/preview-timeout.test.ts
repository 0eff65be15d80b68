import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nullRowsParquet } from '../fuzz/crafted.js';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';

let ws: Workspace | null = null;
afterEach(async () => {
  await ws?.close();
  ws = null;
});

describe('file previews run off the main thread, with a time limit', () => {
  it('a Parquet file that sends the decoder into a huge loop fails the preview, and the app answers meanwhile', async () => {
    // 15 kB whose every count is consistent: 2^31 null rows in 1,024 run-length encoded pages. Decoding it spins
    // for minutes; on the main thread this froze `distillery serve` for every client.
    const file = path.join(tempDir(), 'spin.parquet');
    nullRowsParquet(file, 1024, 1 << 21);
    ws = makeWorkspace({ previewTimeoutMs: 2_000 });
    let settled = false;
    const preview = ws.client.call('datasets.previewImport', { path: file, limit: 5 }).finally(() => (settled = true));
    preview.catch(() => {}); // observed below
    // other calls are answered while the preview runs
    expect(await ws.client.call('datasets.list', {})).toEqual([]);
    expect(await ws.client.call('runs.list', {})).toMatchObject({});
    expect(settled).toBe(false);
    await expect(preview).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/^preview of spin\.parquet (took longer than 2 s|needed more memory than allowed); the file may be damaged$/),
    });
    // and previews go on working
    const small = path.join(tempDir(), 'small.parquet');
    nullRowsParquet(small, 2, 3);
    const ok = await ws.client.call('datasets.previewImport', { path: small, limit: 2 });
    expect(ok.rejects).toEqual([
      { line: 1, reason: 'column "prompt" (the prompt) is empty', excerpt: '{"prompt":null}' },
      { line: 2, reason: 'column "prompt" (the prompt) is empty', excerpt: '{"prompt":null}' },
    ]);
  });

  it('errors of the preview thread come back typed, naming the file', async () => {
    ws = makeWorkspace();
    const missing = path.join(tempDir(), 'nothing.jsonl');
    await expect(ws.client.call('datasets.previewImport', { path: missing })).rejects.toMatchObject({
      code: 'file_missing',
      message: `${missing} does not exist`,
    });
    await expect(ws.client.call('datasets.import', { path: missing, name: 'x' })).rejects.toMatchObject({ code: 'file_missing' });
  });
});
