import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureModel, fixtureSpec } from '../../fixtures/models.js';
import { writeSyntheticLora } from '../../../src-main/core/gguf/synthetic.js';
import { tempDir, waitUntil } from '../../helpers/workspace.js';
import { callValue, startServer, type ServerProcess } from '../../helpers/server.js';
import type { RunDetail } from '../../../src-shared/domain/runs.js';

// Issue 10, point 5: a merge killed mid-way left `<out>.tmp-<pid>` (the full model's size) for ever. The run records
// its temporary file before writing it; the next start-up removes it, and the resumed merge leaves only its output.
const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
});

const tmpOf = (dir: string) => fs.readdirSync(dir).filter((f) => f.includes('.tmp-'));

describe('a server killed during a merge', () => {
  it('leaves the temporary file, which the next start-up removes; the resumed merge completes', async () => {
    const dataDir = tempDir();
    const lora = path.join(tempDir(), 'teacher-lora.gguf');
    writeSyntheticLora(lora, { base: fixtureSpec('teacher'), rank: 8, alpha: 16, targets: ['attn_q', 'attn_v'], seed: 5, scale: 0.2 });
    let server = await startServer(dataDir, ['--no-sample']);
    servers.push(server);
    const model = await callValue<{ id: number }>(server.url, 'models.add', { path: await fixtureModel('teacher') });
    const adapter = await callValue<{ id: number }>(server.url, 'adapters.import', { path: lora, baseModelId: model.id, name: 'T' });

    // Kill while the temporary file exists: stop the process the moment it appears, check the merge is still
    // writing, then SIGKILL. A merge that finished before it could be stopped is tried again with a new file.
    const outDir = tempDir();
    let out = '';
    let runId = 0;
    for (let attempt = 0; attempt < 5 && out === ''; attempt++) {
      const candidate = path.join(outDir, `merged-${attempt}.gguf`);
      ({ runId } = await callValue<{ runId: number }>(server.url, 'adapters.merge', {
        modelId: model.id,
        adapters: [{ id: adapter.id, scale: 1 }],
        out: candidate,
        type: 'f32',
      }));
      await waitUntil(() => tmpOf(outDir).length > 0 || fs.existsSync(candidate), 60_000, 'the merge to start writing');
      server.proc.kill('SIGSTOP');
      if (tmpOf(outDir).length > 0 && !fs.existsSync(candidate)) {
        out = candidate;
        await server.kill();
      } else {
        server.proc.kill('SIGCONT');
        await waitUntil(async () => (await callValue<RunDetail>(server.url, 'runs.get', { id: runId })).status === 'succeeded', 60_000, 'the merge to end');
        fs.rmSync(candidate);
      }
    }
    expect(out).not.toBe('');
    const [leftover] = tmpOf(outDir);
    expect(leftover).toMatch(new RegExp(`^${path.basename(out)}\\.tmp-\\d+$`));
    const db = new Database(path.join(dataDir, 'distillery.db'));
    expect(db.prepare(`SELECT path FROM run_temp_files WHERE run_id = ?`).pluck().all(runId)).toEqual([path.join(outDir, leftover!)]);
    db.close();

    server = await startServer(dataDir, ['--no-sample']);
    servers.push(server);
    expect(tmpOf(outDir)).toEqual([]);
    expect((await callValue<RunDetail>(server.url, 'runs.get', { id: runId })).status).toBe('interrupted');
    await callValue(server.url, 'runs.resume', { id: runId });
    await waitUntil(async () => (await callValue<RunDetail>(server.url, 'runs.get', { id: runId })).status === 'succeeded', 120_000, 'the resumed merge');
    expect(fs.readdirSync(outDir)).toEqual([path.basename(out)]);
    expect(await server.stop()).toBe(0);
  });
});
