import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureAdapter, fixtureModel } from '../../fixtures/models.js';
import { tempDir } from '../../helpers/workspace.js';
import { runCli } from '../../helpers/cli.js';
import { mulberry32 } from '../../../src-main/core/random.js';

/** Runs `distillery` in this process (test/helpers/cli.ts) on one data folder. */
let dataDir: string;
const distillery = (...args: string[]) => runCli(...args, '--data-dir', dataDir);

let text: string;
beforeAll(() => {
  dataDir = tempDir();
  text = path.join(tempDir(), 'eval.txt');
  const words = 'error toner page driver cable network update firmware jam fix check'.split(' ');
  const next = mulberry32(9);
  fs.writeFileSync(text, Array.from({ length: 1200 }, () => words[Math.floor(next() * words.length)]).join(' '));
});

describe('distillery adapters / perplexity CLI', () => {
  it('imports an adapter against a base, lists it, scores perplexity with it at a scale, and merges it', async () => {
    const student = await fixtureModel('student');
    const imported = await distillery('adapters', 'import', await fixtureAdapter('student-lora'), '--base', student, '--name', 'support-lora', '--json');
    expect(imported.stderr).toBe('');
    expect(JSON.parse(imported.stdout)).toMatchObject({ name: 'support-lora', rank: 8, alpha: 16, targets: ['attn_q', 'attn_v'], base: { name: 'student' } });
    const list = await distillery('adapters', 'list');
    expect(list.stdout).toMatch(/ID\s+NAME\s+ARCH\s+RANK\s+ALPHA\s+TARGETS/);
    expect(list.stdout).toMatch(/support-lora\s+llama\s+8\s+16\s+attn_q,attn_v/);

    const score = async (...lora: string[]) => {
      const r = await distillery('perplexity', '--model', student, ...lora.flatMap((l) => ['--lora', l]), '--text', text, '--ctx', '128', '--json');
      expect(r.code, r.stderr).toBe(0);
      const run = JSON.parse(r.stdout) as { metrics: { name: string; value: number }[]; logs: { message: string }[] };
      return { ppl: run.metrics.find((m) => m.name === 'perplexity')!.value, log: run.logs.map((l) => l.message).join('\n') };
    };
    const base = await score();
    expect(base.log).toMatch(/Final estimate: PPL = \d+\.\d{4} \+\/- /);
    expect((await score('support-lora:0')).ppl).toBe(base.ppl);
    const half = await score('support-lora:0.5');
    expect(half.ppl).not.toBe(base.ppl);

    const out = path.join(tempDir(), 'merged.gguf');
    const merged = await distillery('adapters', 'merge', '--base', student, '--lora', 'support-lora:0.5', '--out', out, '--type', 'f32', '--json');
    expect(merged.code, merged.stderr).toBe(0);
    expect(fs.existsSync(out)).toBe(true);
    const r = await distillery('perplexity', '--model', out, '--text', text, '--ctx', '128', '--json');
    const ppl = (JSON.parse(r.stdout) as { metrics: { name: string; value: number }[] }).metrics.find((m) => m.name === 'perplexity')!.value;
    expect(Math.abs(ppl - half.ppl) / half.ppl).toBeLessThan(0.001);

    const bad = await distillery('perplexity', '--model', student, '--lora', 'no-such-adapter', '--text', text);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/no adapter named no-such-adapter/);
    const both = await distillery('perplexity', '--model', student);
    expect(both.stderr).toMatch(/give either --text FILE or --dataset/);
  });
});
