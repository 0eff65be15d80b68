import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeWorkspace, tempDir } from '../helpers/workspace.js';
import { REPO } from '../helpers/server.js';
import { runCli } from '../helpers/cli.js';
import { example, makeDataset } from './fixture.js';
import type { TrainingManifest } from '../../src-shared/domain/training.js';

const HF = 'Qwen/Qwen2.5-0.5B-Instruct';
let dataDir: string;
beforeAll(async () => {
  dataDir = tempDir();
  const ws = makeWorkspace({ dataDir });
  await makeDataset(
    ws,
    'support',
    Array.from({ length: 10 }, (_, i) => example(i)),
    { validation: 2, test: 1 },
  );
  await ws.close();
});

describe('distillery export-training', () => {
  it('writes the folder with the recipe options and prints the folder, the counts and the one command', async () => {
    const dir = path.join(tempDir(), 'axo');
    const r = await runCli(
      'export-training',
      'support@2',
      '--trainer',
      'axolotl',
      '--student-hf-id',
      HF,
      '--out',
      dir,
      '--lora-rank',
      '8',
      '--epochs',
      '1',
      '--lr',
      '0.0001',
      '--target-modules',
      'q_proj,v_proj',
      '--data-dir',
      dataDir,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `Training folder: ${dir}\n  7 train, 2 validation examples\nTrain it (in that folder): axolotl train axolotl.yaml\nThe adapter will be written to ${dir}/outputs/adapter`,
    );
    const y = parse(fs.readFileSync(path.join(dir, 'axolotl.yaml'), 'utf8')) as Record<string, unknown>;
    expect(y).toMatchObject({ base_model: HF, lora_r: 8, num_epochs: 1, learning_rate: 0.0001, lora_target_modules: ['q_proj', 'v_proj'] });

    // the same folder again: refused in one line naming it, then replaced with --force (and --json)
    const again = await runCli('export-training', 'support', '--trainer', 'trl', '--student-hf-id', HF, '--out', dir, '--data-dir', dataDir);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`distillery: ${dir} exists and is not empty; choose another folder or replace it (--force)\n`);
    const forced = await runCli(
      'export-training',
      'support',
      '--trainer',
      'trl',
      '--student-hf-id',
      HF,
      '--out',
      dir,
      '--force',
      '--json',
      '--data-dir',
      dataDir,
    );
    expect(forced.code).toBe(0);
    const json = JSON.parse(forced.stdout) as { status: string; training: { folder: string; manifest: TrainingManifest } };
    expect(json.status).toBe('succeeded');
    expect(json.training.folder).toBe(dir);
    expect(json.training.manifest).toMatchObject({ trainer: 'trl', counts: { train: 7, validation: 2, kd: null }, command: 'python train_trl.py' });
    expect(fs.existsSync(path.join(dir, 'axolotl.yaml'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'train_trl.py'))).toBe(true);
  });

  it('refuses bad options in one line', async () => {
    const out = path.join(tempDir(), 'x');
    const bad = async (...args: string[]) => runCli('export-training', 'support', '--student-hf-id', HF, '--out', out, '--data-dir', dataDir, ...args);
    expect(await bad('--trainer', 'trl', '--lora-rank', 'big')).toMatchObject({
      code: 2,
      stderr: 'distillery: --lora-rank must be a whole number, not "big"\n',
    });
    expect(await bad('--trainer', 'trl', '--kd')).toMatchObject({ code: 2, stderr: expect.stringContaining('--kd needs --student MODEL') });
    const kd = await bad('--trainer', 'trl', '--kd', '--student', '1');
    expect(kd.code).toBe(1);
    expect(kd.stderr).toMatch(/only Axolotl has a KD trainer reading offline logprobs/);
    expect(await bad('--trainer', 'nemo')).toMatchObject({ code: 1, stderr: expect.stringContaining("argument 'nemo' is invalid") });
    expect(fs.existsSync(out)).toBe(false);
  });

  it('writes ./<dataset>-v<version>-<trainer> in the current folder by default (the real process)', () => {
    const cwd = tempDir();
    const r = spawnSync(
      process.execPath,
      [path.join(REPO, 'bin/distillery.js'), 'export-training', 'support', '--trainer', 'llamafactory', '--student-hf-id', HF, '--data-dir', dataDir],
      {
        cwd,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(r.status).toBe(0);
    expect(fs.readdirSync(cwd)).toEqual(['support-v2-llamafactory']);
    expect(r.stdout).toContain('Train it (in that folder): llamafactory-cli train llamafactory.yaml');
  });
});
