import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fixtureModel } from '../fixtures/models.js';
import { makeWorkspace, tempDir, waitUntil, type Workspace } from '../helpers/workspace.js';
import { callValue, startServer, type ServerProcess } from '../helpers/server.js';
import { writeStudentPeft } from './peft-folder.js';
import type { AdapterEntry } from '../../src-shared/domain/adapters.js';
import type { RunDetail } from '../../src-shared/domain/runs.js';

// An adapter is imported once per file: a second watch, a watch after an import by hand, a run resumed after it died
// between converting and committing, a run killed while it waited — none adds a second copy to the library.
const W = 'adapter_model.safetensors';
const open: Workspace[] = [];
const servers: ServerProcess[] = [];
afterEach(async () => {
  for (const ws of open.splice(0)) await ws.close();
});
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
});

async function fresh(): Promise<{ ws: Workspace; student: number }> {
  const ws = makeWorkspace();
  open.push(ws);
  return { ws, student: (await ws.client.call('models.add', { path: await fixtureModel('student') })).id };
}

async function watch(ws: Workspace, dir: string, baseModelId: number): Promise<RunDetail> {
  const { runId } = await ws.client.call('adapters.watch', { dir, baseModelId });
  expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
  return ws.client.call('runs.get', { id: runId });
}
const output = (run: RunDetail) => run.lineage.filter((l) => l.direction === 'output').map((l) => `${l.kind} ${l.ref}`);

describe('adapters.watch imports a file once', () => {
  it('links, not imports, a file a watch or the user imported before; a file saved again is a new adapter', async () => {
    const { ws, student } = await fresh();
    const dir = writeStudentPeft(path.join(tempDir(), 'run-a'));
    const first = await watch(ws, dir, student);
    const [a] = await ws.client.call('adapters.list', {});
    expect(output(first)).toEqual([`adapter ${a!.id}`]);

    const second = await watch(ws, dir, student);
    expect(await ws.client.call('adapters.list', {})).toHaveLength(1);
    expect(output(second)).toEqual([`adapter ${a!.id}`]);
    expect(second.logs.map((l) => l.message)).toContain(
      `${path.join(dir, W)} is already in the library as adapter ${a!.id} (run-a): linked, not imported again.`,
    );
    expect(second.metrics).toEqual([]);

    writeStudentPeft(dir, 11); // the trainer ran again into the same folder
    const third = await watch(ws, dir, student);
    const list = await ws.client.call('adapters.list', {});
    expect(list.map((x) => x.name).sort()).toEqual(['run-a', 'run-a-2']);
    expect(output(third)).toEqual([`adapter ${list.find((x) => x.name === 'run-a-2')!.id}`]);

    const byHand = await ws.client.call('adapters.import', { path: writeStudentPeft(path.join(tempDir(), 'by-hand'), 12), baseModelId: student });
    const fourth = await watch(ws, byHand.source.path, student);
    expect(output(fourth)).toEqual([`adapter ${byHand.id}`]);
    expect(await ws.client.call('adapters.list', {})).toHaveLength(3);
  });

  it('a run resumed after it died between converting and committing links the adapter it made', async () => {
    const { ws, student } = await fresh();
    const dir = writeStudentPeft(path.join(tempDir(), 'crash'));
    const run = await watch(ws, dir, student);
    // what SIGKILL right after the conversion leaves: the adapter in the library, no item, the run interrupted
    ws.app.db.prepare(`DELETE FROM run_items WHERE run_id = ?`).run(run.id);
    ws.app.db.prepare(`DELETE FROM run_lineage WHERE run_id = ? AND direction = 'output'`).run(run.id);
    ws.app.db.prepare(`UPDATE runs SET status = 'interrupted' WHERE id = ?`).run(run.id);
    await ws.client.call('runs.resume', { id: run.id });
    expect((await ws.app.runner.waitFor(run.id)).status).toBe('succeeded');
    const [a, ...rest] = await ws.client.call('adapters.list', {});
    expect(rest).toEqual([]);
    const again = await ws.client.call('runs.get', { id: run.id });
    expect(output(again)).toEqual([`adapter ${a!.id}`]);
    expect(again.itemsDone).toBe(1);
  });

  it('a watch killed (SIGKILL) while it waits is interrupted, and resumed it imports the completed file once', async () => {
    const dataDir = tempDir();
    let server = await startServer(dataDir, ['--no-sample']);
    servers.push(server);
    const student = (await callValue<{ id: number }>(server.url, 'models.add', { path: await fixtureModel('student') })).id;
    const finished = writeStudentPeft(path.join(tempDir(), 'finished'));
    const full = fs.readFileSync(path.join(finished, W));
    const dir = path.join(tempDir(), 'killed');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(finished, 'adapter_config.json'), path.join(dir, 'adapter_config.json'));
    fs.writeFileSync(path.join(dir, W), full.subarray(0, full.length / 2));
    const { runId } = await callValue<{ runId: number }>(server.url, 'adapters.watch', { dir, baseModelId: student });
    const get = () => callValue<RunDetail>(server.url, 'runs.get', { id: runId });
    await waitUntil(async () => /its header declares/.test((await get()).progress.message), 30_000, 'the watch to see the torn file');
    await server.kill();

    fs.writeFileSync(path.join(dir, W), full);
    server = await startServer(dataDir, ['--no-sample']);
    servers.push(server);
    expect((await get()).status).toBe('interrupted');
    await callValue(server.url, 'runs.resume', { id: runId });
    await waitUntil(async () => (await get()).status === 'succeeded', 30_000, 'the resumed watch to import');
    const list = await callValue<AdapterEntry[]>(server.url, 'adapters.list', {});
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ name: 'killed', source: { path: dir } });
    const run = await get();
    expect(run.itemsDone).toBe(1);
    expect(run.logs.filter((l) => l.message.startsWith('Imported '))).toHaveLength(1);
    expect(run.logs.map((l) => l.message)).toContain('The app stopped while this run was running; resume it to finish the remaining items.');
    await server.stop();
  }, 120_000); // two server starts (a few seconds each) under a hang guard
});
