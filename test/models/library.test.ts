import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureAdapter, fixtureBadFiles, fixtureModel } from '../fixtures/models.js';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';

let ws: Workspace;
let student: string;
beforeAll(async () => {
  ws = makeWorkspace();
  student = await fixtureModel('student');
});
afterAll(() => ws.close());

describe('model library', () => {
  it('adds a GGUF with the metadata from its header, roles and note', async () => {
    const copy = path.join(tempDir(), 'student-copy.gguf');
    fs.copyFileSync(student, copy);
    const entry = await ws.client.call('models.add', { path: copy, roles: ['student', 'base'], note: 'tiny' });
    expect(entry).toMatchObject({ name: 'student-copy', path: copy, roles: ['student', 'base'], note: 'tiny', status: 'ok' });
    expect(entry.sizeBytes).toBe(fs.statSync(copy).size);
    expect(entry.summary).toMatchObject({ architecture: 'llama', embeddingLength: 256, blockCount: 2, vocabSize: 32000, tokenizerModel: 'llama' });
    expect((await ws.client.call('models.list', {})).map((m) => m.id)).toContain(entry.id);

    await expect(ws.client.call('models.add', { path: copy })).rejects.toMatchObject({ code: 'conflict' });

    const updated = await ws.client.call('models.update', { id: entry.id, roles: ['teacher'], note: 'renamed', name: 'S' });
    expect(updated).toMatchObject({ roles: ['teacher'], note: 'renamed', name: 'S' });

    // A file that disappears later is shown as missing, and refused for loading with a sentence
    fs.renameSync(copy, copy + '.moved');
    expect((await ws.client.call('models.get', { id: entry.id })).status).toBe('missing');
    await expect(ws.client.call('models.benchmark', { id: entry.id }).then(({ runId }) => ws.app.runner.waitFor(runId))).resolves.toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/no longer exists/),
    });

    // Removing never deletes the user's file
    fs.renameSync(copy + '.moved', copy);
    expect(await ws.client.call('models.remove', { id: entry.id })).toEqual({ removed: true });
    expect(fs.existsSync(copy)).toBe(true);
    await expect(ws.client.call('models.get', { id: entry.id })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses bad files with a sentence that names the file', async () => {
    const bad = await fixtureBadFiles(tempDir());
    const cases: [string, string, RegExp][] = [
      [bad.text, 'not_gguf', /notes\.txt is not a GGUF file: it starts with bytes 'hell'/],
      [bad.empty, 'not_gguf', /empty\.gguf is empty/],
      [bad.truncated, 'not_gguf', /truncated\.gguf is truncated/],
      [bad.headerOnly, 'not_gguf', /header-only\.gguf/],
      [bad.directory, 'not_a_file', /folder\.gguf/],
      [path.join(tempDir(), 'nope.gguf'), 'file_missing', /nope\.gguf does not exist/],
    ];
    for (const [file, code, message] of cases) {
      await expect(ws.client.call('models.add', { path: file }), file).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    }
    expect(await ws.client.call('models.list', {})).toEqual([]);
  });

  it('refuses a LoRA adapter as a model', async () => {
    await expect(ws.client.call('models.add', { path: await fixtureAdapter('student-lora') })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/adapter/),
    });
  });

  it('scans a folder as a run: adds models, logs refused files, records lineage', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.copyFileSync(student, path.join(dir, 'sub', 'a.gguf'));
    fs.copyFileSync(student, path.join(dir, 'b.gguf'));
    fs.writeFileSync(path.join(dir, 'broken.gguf'), 'hello world');
    fs.writeFileSync(path.join(dir, 'readme.txt'), 'not a model');
    const { runId } = await ws.client.call('models.scan', { folder: dir });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    const run = await ws.client.call('runs.get', { id: runId });
    expect(run.itemsDone).toBe(3);
    expect(run.metrics).toEqual(
      expect.arrayContaining([
        { name: 'models_added', value: 2, unit: 'models', step: null },
        { name: 'files_refused', value: 1, unit: 'files', step: null },
      ]),
    );
    expect(run.logs).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/broken\.gguf is not a GGUF file/) }));
    expect(run.lineage.filter((l) => l.direction === 'output' && l.kind === 'model')).toHaveLength(2);
    const names = (await ws.client.call('models.list', {})).map((m) => m.name).sort();
    expect(names).toEqual(['a', 'b']);

    // scanning again adds nothing twice
    const again = await ws.client.call('models.scan', { folder: dir });
    await ws.app.runner.waitFor(again.runId);
    expect((await ws.client.call('models.list', {})).length).toBe(2);

    const missing = await ws.client.call('models.scan', { folder: path.join(dir, 'nope') });
    expect(await ws.app.runner.waitFor(missing.runId)).toMatchObject({ status: 'failed', error: expect.stringMatching(/does not exist/) });
  });

  it('identifies models by their real path: a symlink to a listed file is that model, in add and in a scan', async () => {
    const own = makeWorkspace();
    try {
      const dir = tempDir();
      const file = path.join(dir, 'model.gguf');
      fs.copyFileSync(student, file);
      const first = await own.client.call('models.add', { path: file });
      const link = path.join(dir, 'alias.gguf');
      fs.symlinkSync(file, link);
      await expect(own.client.call('models.add', { path: link })).rejects.toMatchObject({
        code: 'conflict',
        message: `${link} is the same file as ${file}, already in the library (model ${first.id})`,
      });
      expect((await own.client.call('models.inspect', { path: link })).existingId).toBe(first.id);
      // A folder linked from elsewhere, holding a link to the same file: the scan adds nothing.
      const other = tempDir();
      fs.symlinkSync(file, path.join(other, 'again.gguf'));
      const { runId } = await own.client.call('models.scan', { folder: other });
      expect((await own.app.runner.waitFor(runId)).status).toBe('succeeded');
      expect((await own.client.call('models.list', {})).map((m) => m.path)).toEqual([file]);
      const run = await own.client.call('runs.get', { id: runId });
      expect(run.metrics).toEqual(expect.arrayContaining([{ name: 'models_added', value: 0, unit: 'models', step: null }]));

      // A library from before real paths were kept: filled in when it is opened.
      own.app.db.prepare(`UPDATE models SET real_path = NULL`).run();
      await own.close();
      const reopened = makeWorkspace({ dataDir: own.dir });
      try {
        expect(reopened.app.db.prepare(`SELECT real_path FROM models`).pluck().all()).toEqual([fs.realpathSync(file)]);
        await expect(reopened.client.call('models.add', { path: link })).rejects.toMatchObject({ code: 'conflict' });
      } finally {
        await reopened.close();
      }
    } finally {
      await own.close().catch(() => undefined); // closed already when the test got that far
    }
  });

  it('names the file and the reason for a symlink loop or a NUL byte, never a raw error', async () => {
    const dir = tempDir();
    const loop = path.join(dir, 'loop.gguf');
    fs.symlinkSync(loop, loop);
    await expect(ws.client.call('models.add', { path: loop })).rejects.toMatchObject({
      code: 'file_access',
      message: `${loop}: too many levels of symbolic links (a symlink that points back to itself?)`,
    });
    await expect(ws.client.call('models.inspect', { path: `${dir}/a\0b.gguf` })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'path',
      message: 'models.inspect: path: a path cannot contain a NUL byte (\\0)',
    });
  });
});
