import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { fixtureModel } from '../fixtures/models.js';
import { runCli } from '../helpers/cli.js';
import { REPO } from '../helpers/server.js';
import { tempDir, waitUntil } from '../helpers/workspace.js';
import { writeStudentPeft } from '../adapters/peft-folder.js';

// `distillery adapters watch DIR --base MODEL`: it waits in the foreground, says what it waits for, prints the adapter
// it imported and exits 0; Ctrl+C stops the wait.
const W = 'adapter_model.safetensors';

/** The messages run `runId` logged so far, read beside the process that runs it. */
function logsOf(dataDir: string, runId = 1): string[] {
  const file = path.join(dataDir, 'distillery.db');
  if (!fs.existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT message FROM run_logs WHERE run_id = ? ORDER BY seq`).pluck().all(runId) as string[];
  } catch {
    return []; // the tables are not there yet
  } finally {
    db.close();
  }
}

/** A PEFT folder whose safetensors file is cut in half; returns the whole file's bytes to finish it with. */
function tornFolder(name: string): { dir: string; full: Buffer } {
  const finished = writeStudentPeft(path.join(tempDir(), 'finished'));
  const full = fs.readFileSync(path.join(finished, W));
  const dir = path.join(tempDir(), name);
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(finished, 'adapter_config.json'), path.join(dir, 'adapter_config.json'));
  fs.writeFileSync(path.join(dir, W), full.subarray(0, full.length / 2));
  return { dir, full };
}

describe('distillery adapters watch', () => {
  it('waits for the torn file to be completed, prints the adapter and exits 0; again with --json it links, not imports', async () => {
    const dataDir = tempDir();
    const student = await fixtureModel('student');
    const { dir, full } = tornFolder('cli-out');
    const done = runCli('adapters', 'watch', dir, '--base', student, '--data-dir', dataDir);
    await waitUntil(() => logsOf(dataDir).some((m) => m.includes('its header declares')), 30_000, 'the watch to see the torn file');
    fs.writeFileSync(path.join(dir, W), full);
    const r = await done;
    expect(r.stderr).toContain(
      `Waiting: cli-out/${W} has ${(full.length / 2).toLocaleString('en-US')} bytes of the ${full.length.toLocaleString('en-US')} bytes its header declares.`,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`adapter 1 cli-out: 4 tensors, rank 4, alpha 8, targets attn_q\nTrained outside the app; imported by watch run 1 from ${dir}.\n`);

    const again = await runCli('adapters', 'watch', dir, '--base', '1', '--data-dir', dataDir, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ runId: 2, imported: false, adapter: { id: 1, name: 'cli-out', tensorCount: 4 } });
    expect(again.stderr).toBe('');
  });

  it('refuses a bad --timeout as a usage error, and a missing folder with its reason', async () => {
    const dataDir = tempDir();
    const bad = await runCli('adapters', 'watch', tempDir(), '--base', await fixtureModel('student'), '--timeout', 'soon', '--data-dir', dataDir);
    expect(bad).toMatchObject({ code: 2, stderr: 'distillery: --timeout must be a positive number of minutes, not "soon"\n' });
    const nowhere = path.join(tempDir(), 'a', 'b');
    const missing = await runCli('adapters', 'watch', nowhere, '--base', await fixtureModel('student'), '--data-dir', dataDir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`neither ${nowhere} nor its parent folder exists: check the path`);
  });

  it('stops waiting on Ctrl+C: the run ends cancelled and nothing is imported', async () => {
    const dataDir = tempDir();
    const { dir } = tornFolder('interrupted');
    const child = spawn(process.execPath, ['bin/distillery.js', 'adapters', 'watch', dir, '--base', await fixtureModel('student'), '--data-dir', dataDir], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.resume();
    await waitUntil(() => stderr.includes('its header declares'), 30_000, 'the watch to say what it waits for');
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(stderr).toContain('run 1 cancelled');
    const db = new Database(path.join(dataDir, 'distillery.db'), { readonly: true });
    try {
      expect(db.prepare(`SELECT status FROM runs WHERE id = 1`).pluck().get()).toBe('cancelled');
      expect(db.prepare(`SELECT count(*) FROM adapters`).pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });
});
