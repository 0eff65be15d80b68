import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';

// Issue 10, point 1: an export writes only where the user may write. Never the data folder's own files (through
// symlinks too), an existing file only when asked to replace it, never into a folder that does not exist; checked
// when the run is submitted and again when it writes.
let ws: Workspace;

beforeAll(async () => {
  ws = makeWorkspace();
  const file = path.join(tempDir(), 'faq.jsonl');
  const rows = Array.from({ length: 12 }, (_, i) =>
    JSON.stringify({
      messages: [
        { role: 'user', content: `q${i}` },
        { role: 'assistant', content: `a${i}` },
      ],
    }),
  );
  fs.writeFileSync(file, rows.join('\n') + '\n');
  const { runId } = await ws.client.call('datasets.import', { path: file, name: 'faq' });
  expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
});
afterAll(() => ws.close());

const exportTo = (out: string, extra: { replace?: boolean; split?: 'all' | 'each' } = {}) =>
  ws.client.call('datasets.export', { name: 'faq', format: 'openai', out, ...extra });

function libraryIntact(): void {
  const db = new Database(path.join(ws.dir, 'distillery.db'), { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  } finally {
    db.close();
  }
}

describe('export output paths', () => {
  it("refuses the data folder's own files, even with replace and through symlinks, and the library still opens", async () => {
    fs.writeFileSync(path.join(ws.dir, 'distillery.lock'), String(process.pid));
    for (const name of ['distillery.db', 'distillery.db-wal', 'distillery.lock', 'search.db', 'secrets.key']) {
      await expect(exportTo(path.join(ws.dir, name), { replace: true })).rejects.toMatchObject({
        code: 'invalid_input',
        message: expect.stringContaining(`${path.join(ws.dir, name)} is one of Distillery's own files`),
      });
    }
    const linkToFolder = path.join(tempDir(), 'library');
    fs.symlinkSync(ws.dir, linkToFolder);
    await expect(exportTo(path.join(linkToFolder, 'distillery.db'), { replace: true })).rejects.toMatchObject({ code: 'invalid_input' });
    const linkToDb = path.join(tempDir(), 'innocent.jsonl');
    fs.symlinkSync(path.join(ws.dir, 'distillery.db'), linkToDb);
    await expect(exportTo(linkToDb, { replace: true })).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining('own files') });
    expect(fs.readFileSync(path.join(ws.dir, 'distillery.lock'), 'utf8')).toBe(String(process.pid));
    expect((await ws.client.call('datasets.list', {})).map((d) => d.name)).toEqual(['faq']);
    libraryIntact();
  });

  it('checks again when the run writes: a run aimed at the database fails and leaves it whole', async () => {
    const v = ws.app.db.prepare(`SELECT v.id FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id WHERE d.name = 'faq'`).pluck().get() as number;
    const run = ws.app.runner.submit('datasets.export', {
      name: 'faq',
      version: 1,
      versionId: v,
      format: 'openai',
      out: path.join(ws.dir, 'distillery.db'),
      replace: true,
    });
    const end = await ws.app.runner.waitFor(run.id);
    expect(end.status).toBe('failed');
    expect(end.error).toContain("is one of Distillery's own files");
    const user = path.join(tempDir(), 'mine.jsonl');
    fs.writeFileSync(user, 'my own data\n');
    const second = await ws.app.runner.waitFor(
      ws.app.runner.submit('datasets.export', { name: 'faq', version: 1, versionId: v, format: 'openai', out: user }).id,
    );
    expect(second.error).toBe(`${user} already exists; choose another name or ask to replace it (--force)`);
    expect(fs.readFileSync(user, 'utf8')).toBe('my own data\n');
    libraryIntact();
  });

  it('refuses an existing file unless asked to replace it, then replaces it', async () => {
    const out = path.join(tempDir(), 'faq.jsonl');
    fs.writeFileSync(out, 'keep me\n');
    await expect(exportTo(out)).rejects.toMatchObject({
      code: 'file_exists',
      field: 'out',
      message: `${out} already exists; choose another name or ask to replace it (--force)`,
    });
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me\n');
    const { runId } = await exportTo(out, { replace: true });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    expect(fs.readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(12);
    // The manifest beside it now exists too: a second export without replace is refused.
    await expect(exportTo(out)).rejects.toMatchObject({ code: 'file_exists' });
    fs.rmSync(out);
    await expect(exportTo(out)).rejects.toMatchObject({ code: 'file_exists', message: expect.stringContaining(`${out}.manifest.json`) });
  });

  it('refuses a missing folder (never created) and checks every per-split file', async () => {
    const missing = path.join(tempDir(), 'no', 'such', 'dir');
    await expect(exportTo(path.join(missing, 'x.jsonl'))).rejects.toMatchObject({
      code: 'file_missing',
      message: `the folder ${missing} does not exist; create it first`,
    });
    expect(fs.existsSync(path.dirname(missing))).toBe(false);

    await ws.client.call('datasets.split', { name: 'faq', ratios: { train: 0.5, validation: 0.25, test: 0.25 }, seed: 1 });
    await ws.client.call('datasets.commit', { name: 'faq', message: 'split' });
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'faq.test.jsonl'), 'not yours\n');
    await expect(exportTo(path.join(dir, 'faq.jsonl'), { split: 'each' })).rejects.toMatchObject({
      code: 'file_exists',
      message: expect.stringContaining('faq.test.jsonl'),
    });
    expect(fs.readdirSync(dir)).toEqual(['faq.test.jsonl']);
  });

  it('refuses a NUL byte in a path with a clear message', async () => {
    await expect(exportTo('/tmp/a\0b.jsonl')).rejects.toMatchObject({ code: 'invalid_input', field: 'out', message: expect.stringContaining('NUL byte') });
  });
});
