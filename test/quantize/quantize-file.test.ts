import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { QuantizeSession, quantizeFile } from '../../src-main/core/quantize/quantize-file.js';
import type { QuantizeJob } from '../../src-main/core/quantize/quantize-child.js';
import { LlmEngine } from '../../src-main/core/llm/engine.js';
import type { LibraryFiles } from '../../src-main/core/native/ffi.js';
import { readGgufHeader } from '../../src-main/core/gguf/header.js';
import { quantType } from '../../src-shared/domain/quantize.js';
import { fixtureModel } from '../fixtures/models.js';
import { perplexityText } from '../tools/build-llama-perplexity.js';
import { tempDir, waitUntil } from '../helpers/workspace.js';
import { tensorBytes, tool } from './helpers.js';

describe('quantizing through the libllama node-llama-cpp ships, in a child process', () => {
  const engine = new LlmEngine({ gpu: false });
  let libraries: LibraryFiles;
  let dir: string;
  let teacher: string;
  const job = (over: Partial<QuantizeJob> & Pick<QuantizeJob, 'output' | 'ftype'>): QuantizeJob => ({
    libraries,
    input: teacher,
    threads: 1,
    outputTensorType: null,
    tokenEmbeddingType: null,
    pure: false,
    allowRequantize: false,
    imatrixFile: null,
    ...over,
  });

  beforeAll(async () => {
    libraries = await engine.nativeLibraries();
    dir = tempDir();
    teacher = await fixtureModel('teacher');
  });
  afterAll(() => engine.dispose());

  it.each(['Q8_0', 'Q4_K_M'])('%s: the same bytes as llama-quantize, with progress per tensor', async (name) => {
    const type = quantType(name)!;
    const ours = path.join(dir, `ours-${name}.gguf`);
    const progress: [number, number, string][] = [];
    await quantizeFile(job({ output: ours, ftype: type.ftype }), { onTensor: (done, total, tensor) => progress.push([done, total, tensor]) });
    const theirs = path.join(dir, `tool-${name}.gguf`);
    tool(inject('llamaQuantize'), [teacher, theirs, name, '1']);
    expect(fs.readFileSync(ours).equals(fs.readFileSync(theirs))).toBe(true);
    const tensors = readGgufHeader(teacher).tensors.length;
    expect(progress.map((p) => p[0])).toEqual(Array.from({ length: tensors }, (_, i) => i + 1));
    expect(new Set(progress.map((p) => p[1]))).toEqual(new Set([tensors]));
    expect(progress.map((p) => p[2])).toContain('blk.0.attn_q.weight');
  });

  it('one child quantizes several files in turn (a ladder run), each with its own progress; a killed child is replaced', async () => {
    const student = await fixtureModel('student');
    const session = new QuantizeSession();
    try {
      const seen: Record<string, number> = {};
      for (const name of ['Q8_0', 'Q4_0', 'Q4_K_M']) {
        const ours = path.join(dir, `session-${name}.gguf`);
        seen[name] = 0;
        await session.run(job({ input: student, output: ours, ftype: quantType(name)!.ftype }), { onTensor: () => seen[name]!++ });
        const theirs = path.join(dir, `session-tool-${name}.gguf`);
        tool(inject('llamaQuantize'), [student, theirs, name, '1']);
        expect(fs.readFileSync(ours).equals(fs.readFileSync(theirs))).toBe(true);
      }
      const tensors = readGgufHeader(student).tensors.length;
      expect(seen).toEqual({ Q8_0: tensors, Q4_0: tensors, Q4_K_M: tensors });
      expect(session.childStarts).toBe(1);
      // a cancel kills the child; the next job starts another
      const abort = new AbortController();
      const cancelled = session.run(job({ output: path.join(dir, 'session-cancel.gguf'), ftype: quantType('Q4_K_M')!.ftype }), {
        signal: abort.signal,
        onTensor: () => abort.abort(),
      });
      await expect(cancelled).rejects.toMatchObject({ code: 'cancelled' });
      await session.run(job({ input: student, output: path.join(dir, 'session-after.gguf'), ftype: quantType('Q8_0')!.ftype }));
      expect(fs.readFileSync(path.join(dir, 'session-after.gguf')).equals(fs.readFileSync(path.join(dir, 'session-Q8_0.gguf')))).toBe(true);
      expect(session.childStarts).toBe(2);
    } finally {
      session.close();
    }
  });

  it('an idle session ends its child by itself', async () => {
    const session = new QuantizeSession(100);
    await session.run(job({ output: path.join(dir, 'idle.gguf'), ftype: quantType('Q8_0')!.ftype }));
    const pid = session.pid!;
    expect(pid).toBeGreaterThan(0);
    await waitUntil(() => session.pid === null, 10_000, 'the idle child to be closed');
    // the process itself is gone once it sees its parent disconnect
    await waitUntil(
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      10_000,
      'the child to exit',
    );
  });

  it('a job started while the idle child is still exiting runs in a new child, and that exit does not fail it', async () => {
    const session = new QuantizeSession();
    try {
      await session.run(job({ output: path.join(dir, 'closed-first.gguf'), ftype: quantType('Q8_0')!.ftype }));
      const old = session.pid!;
      const exited = new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          try {
            process.kill(old, 0);
          } catch {
            clearInterval(timer);
            resolve();
          }
        }, 5);
      });
      // what the idle timer does, followed at once by the ladder's next type (the old child has not exited yet)
      session.close();
      const next = session.run(job({ output: path.join(dir, 'closed-next.gguf'), ftype: quantType('Q4_K_M')!.ftype }));
      await exited;
      await next;
      expect(session.childStarts).toBe(2);
      expect(readGgufHeader(path.join(dir, 'closed-next.gguf')).tensors.length).toBe(readGgufHeader(teacher).tensors.length);
    } finally {
      session.close();
    }
  });

  it('IQ2_XS with an importance matrix: the same tensors as llama-quantize --imatrix', async () => {
    // the student (256 wide): IQ2 quantization is slow on one thread, and the smaller model proves the same
    const student = await fixtureModel('student');
    const text = path.join(dir, 'text.txt');
    fs.writeFileSync(text, perplexityText(11, 300));
    const imatrix = path.join(dir, 'student.imatrix.gguf');
    tool(inject('llamaImatrix'), ['-m', student, '-f', text, '-c', '128', '-t', '1', '-o', imatrix]);
    const ours = path.join(dir, 'ours-iq2.gguf');
    await quantizeFile(job({ input: student, output: ours, ftype: quantType('IQ2_XS')!.ftype, imatrixFile: imatrix }));
    const theirs = path.join(dir, 'tool-iq2.gguf');
    tool(inject('llamaQuantize'), ['--imatrix', imatrix, student, theirs, 'IQ2_XS', '1']);
    const expected = tensorBytes(theirs);
    const actual = tensorBytes(ours);
    expect([...actual.keys()]).toEqual([...expected.keys()]);
    for (const [name, bytes] of expected) expect(actual.get(name)!.equals(bytes), name).toBe(true);
  });

  it("a type that needs an importance matrix fails without one, with llama.cpp's reason, and writes nothing", async () => {
    const out = path.join(dir, 'no-imatrix.gguf');
    await expect(quantizeFile(job({ output: out, ftype: quantType('IQ2_XS')!.ftype }))).rejects.toMatchObject({
      code: 'engine_error',
      message: expect.stringMatching(/requires an importance matrix|requires an imatrix/),
    });
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a cancel kills the child at once (the caller removes its temporary file)', async () => {
    const controller = new AbortController();
    const out = path.join(dir, 'cancelled.gguf');
    let seen = 0;
    const run = quantizeFile(job({ output: out, ftype: quantType('Q4_K_M')!.ftype }), {
      signal: controller.signal,
      onTensor: () => {
        if (++seen === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(seen).toBeLessThan(readGgufHeader(teacher).tensors.length);
  });
});
