import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';
import { fixtureAdapter, fixtureModel } from '../fixtures/models.js';

// Issue 10, point 1 for merges: the same rule as exports (core/files/output-path.ts), at submit time and when the run
// writes. Merging needs no inference, so this runs with the fast suite.
let ws: Workspace;
let student: number;
let lora: number;

beforeAll(async () => {
  ws = makeWorkspace();
  student = (await ws.client.call('models.add', { path: await fixtureModel('student') })).id;
  lora = (await ws.client.call('adapters.import', { path: await fixtureAdapter('student-lora'), baseModelId: student, name: 'A' })).id;
});
afterAll(() => ws.close());

const merge = (out: string, replace?: boolean) =>
  ws.client.call('adapters.merge', { modelId: student, adapters: [{ id: lora, scale: 0.5 }], out, type: 'f16', ...(replace === undefined ? {} : { replace }) });

describe('merge output paths', () => {
  it("refuses the data folder's own files, through symlinks and with replace", async () => {
    fs.mkdirSync(path.join(ws.dir, 'adapters'), { recursive: true });
    const converted = path.join(ws.dir, 'adapters', 'converted.gguf');
    fs.writeFileSync(converted, 'made by the app');
    await expect(merge(converted, true)).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining("is one of Distillery's own files") });
    const link = path.join(tempDir(), 'merged.gguf');
    fs.symlinkSync(path.join(ws.dir, 'distillery.db'), link);
    await expect(merge(link, true)).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining("is one of Distillery's own files") });
    const folderLink = path.join(tempDir(), 'lib');
    fs.symlinkSync(path.join(ws.dir, 'adapters'), folderLink);
    await expect(merge(path.join(folderLink, 'converted.gguf'), true)).rejects.toMatchObject({ code: 'invalid_input' });
    expect(fs.readFileSync(converted, 'utf8')).toBe('made by the app');
    const db = new Database(path.join(ws.dir, 'distillery.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('refuses a missing folder and an existing file unless asked to replace it', async () => {
    const missing = path.join(tempDir(), 'nope');
    await expect(merge(path.join(missing, 'm.gguf'))).rejects.toMatchObject({
      code: 'file_missing',
      message: `the folder ${missing} does not exist; create it first`,
    });
    expect(fs.existsSync(missing)).toBe(false);
    const out = path.join(tempDir(), 'm.gguf');
    fs.writeFileSync(out, 'an older file');
    await expect(merge(out)).rejects.toMatchObject({
      code: 'file_exists',
      field: 'out',
      message: `${out} already exists; choose another name or ask to replace it (--force)`,
    });
    expect(fs.readFileSync(out, 'utf8')).toBe('an older file');
    const { runId } = await merge(out, true);
    const end = await ws.app.runner.waitFor(runId);
    expect(end.error).toBeNull();
    expect(fs.readFileSync(out).subarray(0, 4).toString()).toBe('GGUF');
  });

  it('checks again when the run writes: a file that appeared after the submit is kept', async () => {
    const out = path.join(tempDir(), 'later.gguf');
    const model = ws.app.db.prepare(`SELECT path, name FROM models WHERE id = ?`).get(student) as { path: string; name: string };
    const adapter = ws.app.db.prepare(`SELECT path FROM adapters WHERE id = ?`).pluck().get(lora) as string;
    fs.writeFileSync(out, 'appeared meanwhile');
    const variant = {
      modelId: student,
      modelPath: model.path,
      modelName: model.name,
      adapters: [{ id: lora, name: 'A', filePath: adapter, scale: 1 }],
      label: 'x',
    };
    const end = await ws.app.runner.waitFor(ws.app.runner.submit('adapters.merge', { variant, out, type: 'f16' }).id);
    expect(end.status).toBe('failed');
    expect(end.error).toBe(`${out} already exists; choose another name or ask to replace it (--force)`);
    expect(fs.readFileSync(out, 'utf8')).toBe('appeared meanwhile');
    expect(fs.readdirSync(path.dirname(out))).toEqual(['later.gguf']);
  });
});
