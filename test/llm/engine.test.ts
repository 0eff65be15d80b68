import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LlmEngine } from '../../src-main/core/llm/engine.js';
import { benchmarkModel } from '../../src-main/core/llm/benchmark.js';
import { defaultThreadsFor } from '../../src-main/core/llm/threads.js';
import { fixtureModel } from '../fixtures/models.js';

let teacher: string;
let student: string;
let engine: LlmEngine;
let tmp: string;

beforeAll(async () => {
  teacher = await fixtureModel('teacher');
  student = await fixtureModel('student');
  engine = new LlmEngine({ gpu: false });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-engine-'));
});

afterAll(async () => {
  await engine.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

describe('LlmEngine', () => {
  it('loads each file once, shares it between concurrent callers, and reports progress', async () => {
    const progress: number[] = [];
    const [a, b, c] = await Promise.all([
      engine.loadModel(teacher, { onProgress: (p) => progress.push(p) }),
      engine.loadModel(teacher),
      engine.loadModel(student),
    ]);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(1);
    expect(progress.filter((p, i) => p < 0 || p > 1 || (i > 0 && p < progress[i - 1]!))).toEqual([]); // within [0, 1], never going back
    // already loaded: progress jumps straight to 1
    const again: number[] = [];
    expect(await engine.loadModel(teacher, { onProgress: (p) => again.push(p) })).toBe(a);
    expect(again).toEqual([1]);
    // three calls, two files: each file was read from disk once
    expect(engine.info()).toMatchObject({ gpu: 'cpu', defaultThreads: engine.defaultThreads(), modelLoads: 2 });
  }, 30_000);

  it('creates contexts with the thread override, or the measured default', async () => {
    const model = await engine.loadModel(student);
    const auto = await engine.createContext(model, { contextSize: 256 });
    const two = await engine.createContext(model, { contextSize: 256, threads: 2 });
    try {
      expect(auto.idealThreads).toBe(engine.defaultThreads());
      expect(two.idealThreads).toBe(2);
    } finally {
      await auto.dispose();
      await two.dispose();
    }
  }, 30_000);

  it('names the file and the reason when a model cannot be loaded', async () => {
    const missing = await rejection(engine.loadModel(path.join(tmp, 'gone.gguf')));
    expect(missing).toMatchObject({ code: 'file_missing' });
    expect(missing.message).toMatch(/^gone\.gguf could not be loaded: there is no file/);

    const notes = path.join(tmp, 'notes.txt');
    fs.writeFileSync(notes, 'hello, this is not a model');
    const bad = await rejection(engine.loadModel(notes));
    expect(bad).toMatchObject({ code: 'engine_error' });
    expect(bad.message).toMatch(/^notes\.txt could not be loaded: /);

    const dir = await rejection(engine.loadModel(tmp));
    expect(dir).toMatchObject({ code: 'not_a_file' });
  });

  it('refuses a model larger than the free memory with the figures', async () => {
    // Keeping all of this machine's memory in reserve leaves nothing free: the same check a too-large model meets.
    const tight = new LlmEngine({ gpu: false, ramPaddingBytes: os.totalmem() * 4 });
    try {
      const e = await rejection(tight.loadModel(teacher));
      expect(e).toMatchObject({ code: 'out_of_memory' });
      expect(e.message).toMatch(/^teacher\.gguf needs about [\d.]+ GB of memory but only 0\.0 GB are free/);
    } finally {
      await tight.dispose();
    }
  }, 30_000);

  it('throws after dispose', async () => {
    const e = new LlmEngine({ gpu: false });
    await e.loadModel(student);
    await e.dispose();
    expect(() => e.loadModel(student)).toThrow(/disposed/);
  }, 30_000);
});

describe('defaultThreadsFor', () => {
  it('uses 1 thread on small CPU-only machines with the prebuilt (no OpenMP) binaries', () => {
    expect(defaultThreadsFor({ cpuCores: 2, mathCores: 2, gpu: false, openMp: false })).toBe(1);
    expect(defaultThreadsFor({ cpuCores: 1, mathCores: 1, gpu: false, openMp: false })).toBe(1);
    expect(defaultThreadsFor({ cpuCores: 16, mathCores: 8, gpu: false, openMp: false })).toBe(4);
    expect(defaultThreadsFor({ cpuCores: 2, mathCores: 2, gpu: false, openMp: true })).toBe(2);
    expect(defaultThreadsFor({ cpuCores: 16, mathCores: 8, gpu: true, openMp: false })).toBe(8);
  });

  it('leaves one core free with a persistent threadpool (the native engine host)', () => {
    expect(defaultThreadsFor({ cpuCores: 2, mathCores: 2, gpu: false, openMp: false, persistentThreads: true })).toBe(1);
    expect(defaultThreadsFor({ cpuCores: 1, mathCores: 1, gpu: false, openMp: false, persistentThreads: true })).toBe(1);
    expect(defaultThreadsFor({ cpuCores: 16, mathCores: 8, gpu: false, openMp: false, persistentThreads: true })).toBe(8);
    expect(defaultThreadsFor({ cpuCores: 8, mathCores: 8, gpu: false, openMp: false, persistentThreads: true })).toBe(7);
  });
});

describe('benchmarkModel', () => {
  it('measures positive prompt and generation speeds per repetition', async () => {
    const steps: string[] = [];
    const r = await benchmarkModel(
      engine,
      student,
      { promptTokens: 32, generateTokens: 16, repetitions: 2, threads: null },
      { onProgress: (_d, _t, message) => steps.push(message) },
    );
    expect(r.loadMs).toBeGreaterThanOrEqual(0);
    expect(r.promptTokensPerSecond).toHaveLength(2);
    expect(r.generateTokensPerSecond).toHaveLength(2);
    for (const v of [...r.promptTokensPerSecond, ...r.generateTokensPerSecond]) expect(v).toBeGreaterThan(0);
    expect(steps.at(-1)).toBe('done');
  }, 30_000);

  it('can be cancelled', async () => {
    const controller = new AbortController();
    // 3 × 100,000 tokens cannot finish within the test's 30 s: only the abort can end it
    const e = await rejection(
      benchmarkModel(
        engine,
        teacher,
        { promptTokens: 64, generateTokens: 100_000, repetitions: 3, threads: 1 },
        {
          signal: controller.signal,
          onProgress: (_d, _t, message) => {
            if (message.includes('generation')) setTimeout(() => controller.abort(), 50);
          },
        },
      ),
    );
    expect(e).toMatchObject({ code: 'cancelled' });
  }, 30_000);
});
