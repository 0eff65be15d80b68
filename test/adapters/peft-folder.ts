// PEFT adapter folders for the student fixture, as trainers save them (adapter_config.json + adapter_model.safetensors),
// and a "trainer" child process that writes one in pieces: what the `adapters.watch` tests wait on.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fixtureSpec } from '../fixtures/models.js';
import { writeSafetensors } from '../../src-main/core/adapters/safetensors.js';
import { readGgufHeader } from '../../src-main/core/gguf/header.js';
import { mulberry32 } from '../../src-main/core/random.js';

/** A rank-4 LoRA on q_proj of both student layers (4 tensors), deterministic from `seed`, written into `dir`. */
export function writeStudentPeft(dir: string, seed = 3, embedding = fixtureSpec('student').embedding): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), peftConfigText());
  const next = mulberry32(seed);
  const rand = (n: number) => Float32Array.from({ length: n }, () => (next() - 0.5) * 0.2);
  writeSafetensors(
    path.join(dir, 'adapter_model.safetensors'),
    [0, 1].flatMap((l) => [
      { name: `base_model.model.model.layers.${l}.self_attn.q_proj.lora_A.weight`, dtype: 'F32' as const, shape: [4, embedding], data: rand(4 * embedding) },
      { name: `base_model.model.model.layers.${l}.self_attn.q_proj.lora_B.weight`, dtype: 'F32' as const, shape: [embedding, 4], data: rand(4 * embedding) },
    ]),
    { format: 'pt' },
  );
  return dir;
}

export function peftConfigText(): string {
  return JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj'], base_model_name_or_path: 'tiny/student' });
}

/** The byte where a safetensors file's data starts (8 + its header length). */
export function dataStart(file: string): number {
  return 8 + Number(fs.readFileSync(file).readBigUInt64LE(0));
}

/** Every tensor of a GGUF: name, ggml shape, type and raw bytes (to compare two conversions). */
export function ggufTensors(file: string): { name: string; shape: number[]; type: number; sha: string }[] {
  const bytes = fs.readFileSync(file);
  return readGgufHeader(file).tensors.map((t) => ({
    name: t.name,
    shape: t.shape,
    type: t.type,
    sha: bytes.subarray(t.offset, t.offset + t.byteSize).toString('base64'),
  }));
}

/** One write of the trainer: `bytes` [from, to) of `file`, optionally in `pieces` appends with a pause between them. */
export interface Piece {
  file: string;
  from: number;
  to: number;
  pieces?: number;
}

// A child process that appends byte ranges of finished files to a folder, one step per "next" line on stdin, and
// answers "done <i>" once a step is on disk: the test decides when each write happens and sees when it landed.
const WRITER = `
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const [src, dst, stepsJson] = process.argv.slice(1);
const steps = JSON.parse(stepsJson);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let i = 0;
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async () => {
  const s = steps[i];
  const bytes = fs.readFileSync(path.join(src, s.file)).subarray(s.from, s.to);
  const n = s.pieces || 1;
  const size = Math.ceil(bytes.length / n);
  for (let k = 0; k < n; k++) {
    fs.appendFileSync(path.join(dst, s.file), bytes.subarray(k * size, (k + 1) * size));
    if (k < n - 1) await sleep(30);
  }
  process.stdout.write('done ' + i++ + '\\n');
  if (i === steps.length) rl.close();
});
`;

export interface Trainer {
  /** Performs the next step; resolves once its bytes are written. */
  step(): Promise<void>;
  proc: ChildProcess;
}

export function startTrainer(src: string, dst: string, steps: Piece[]): Trainer {
  fs.mkdirSync(dst, { recursive: true });
  const proc = spawn(process.execPath, ['-e', WRITER, src, dst, JSON.stringify(steps)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  const waiting: (() => void)[] = [];
  lines.on('line', () => waiting.shift()?.());
  return {
    proc,
    step: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        proc.stdin!.write('next\n');
      }),
  };
}
