import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';
import { fixtureAdapter, fixtureModel, fixtureSpec } from '../fixtures/models.js';
import { writeSyntheticLora } from '../../src-main/core/gguf/synthetic.js';

// adapters.compatibility: what the pickers grey out. The fixture student and teacher are both "llama" models of
// different sizes, so an architecture match alone would wrongly offer the student's adapters on the teacher.
let ws: Workspace;
let student: number;
let teacher: number;
let loraA: number;
let loraB: number;

beforeAll(async () => {
  ws = makeWorkspace({ runJobs: false });
  student = (await ws.client.call('models.add', { path: await fixtureModel('student') })).id;
  teacher = (await ws.client.call('models.add', { path: await fixtureModel('teacher') })).id;
  const b = path.join(tempDir(), 'lora-b.gguf');
  writeSyntheticLora(b, { base: fixtureSpec('student'), rank: 4, alpha: 4, targets: ['attn_k'], seed: 3, scale: 0.2 });
  loraA = (await ws.client.call('adapters.import', { path: await fixtureAdapter('student-lora'), name: 'A' })).id;
  loraB = (await ws.client.call('adapters.import', { path: b, name: 'B' })).id;
});
afterAll(async () => {
  await ws?.close();
});

describe('adapters.compatibility', () => {
  it('says per adapter whether it fits the model, with the reason when it does not', async () => {
    expect(await ws.client.call('adapters.compatibility', { modelId: student })).toEqual([
      { id: loraA, ok: true, reason: null },
      { id: loraB, ok: true, reason: null },
    ]);
    const onTeacher = await ws.client.call('adapters.compatibility', { modelId: teacher });
    expect(onTeacher.map((c) => [c.id, c.ok])).toEqual([
      [loraA, false],
      [loraB, false],
    ]);
    expect(onTeacher[0]!.reason).toMatch(/^A does not fit .*teacher.*: "blk\.0\.attn_q\.weight" has ne \[512, 512\]/);
  });

  it('answers again from its cache, and notices a file that changed or went away', async () => {
    const b = (await ws.client.call('adapters.get', { id: loraB })).path;
    expect((await ws.client.call('adapters.compatibility', { modelId: student }))[1]).toMatchObject({ ok: true });
    // the same name, now made for the teacher: the cached verdict for the old file must not be reused
    writeSyntheticLora(b, { base: fixtureSpec('teacher'), rank: 4, alpha: 4, targets: ['attn_k'], seed: 3, scale: 0.2 });
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(b, later, later);
    expect((await ws.client.call('adapters.compatibility', { modelId: student }))[1]).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/does not fit/),
    });
    expect((await ws.client.call('adapters.compatibility', { modelId: teacher }))[1]).toMatchObject({ ok: true });
    fs.rmSync(b);
    expect((await ws.client.call('adapters.compatibility', { modelId: teacher }))[1]).toMatchObject({ ok: false, reason: `its file ${b} no longer exists` });
  });

  it('refuses an unknown model with a clear error', async () => {
    await expect(ws.client.call('adapters.compatibility', { modelId: 999 })).rejects.toMatchObject({ code: 'not_found' });
  });
});
