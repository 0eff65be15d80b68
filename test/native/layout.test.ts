import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { GGML_ENUMS, STRUCTS } from '../../src-main/core/native/ffi.js';
import { llamaCppSourceDir } from '../fixtures/models.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The koffi declarations of native/ffi.ts against the C compiler: a C program compiled against the llama.h / ggml.h
 * node-llama-cpp bundles (its git bundle, cloned by the fixtures) prints sizeof and every field's offsetof. Any
 * difference fails here, never corrupts memory at run time.
 */
describe('native struct layouts', () => {
  it('every struct and field the binding declares has the size and offset the bundled headers give', () => {
    const src = llamaCppSourceDir();
    const dir = tempDir('distillery-layout-');
    const lines: string[] = ['#include <stdio.h>', '#include <stddef.h>', '#include "llama.h"', '#include "ggml-cpu.h"', 'int main(void) {'];
    const expected: string[] = [];
    for (const [name, type] of Object.entries(STRUCTS)) {
      lines.push(`  printf("${name} %zu %zu\\n", sizeof(struct ${name}), _Alignof(struct ${name}));`);
      expected.push(`${name} ${koffi.sizeof(type)} ${koffi.alignof(type)}`);
      for (const field of Object.keys(koffi.type(type).members ?? {})) {
        lines.push(`  printf("${name}.${field} %zu %zu\\n", offsetof(struct ${name}, ${field}), sizeof(((struct ${name} *)0)->${field}));`);
        expected.push(`${name}.${field} ${koffi.offsetof(type, field)} ${koffi.type(type).members![field]!.type.size}`);
      }
    }
    // the enum values the eval callback compares (imatrix-op.ts)
    for (const [name, value] of Object.entries(GGML_ENUMS)) {
      lines.push(`  printf("${name} %d\\n", (int)${name});`);
      expected.push(`${name} ${value}`);
    }
    lines.push('  return 0;', '}');
    const c = path.join(dir, 'layout.c');
    fs.writeFileSync(c, lines.join('\n'));
    const exe = path.join(dir, 'layout');
    execFileSync('gcc', ['-std=c11', '-I', path.join(src, 'include'), '-I', path.join(src, 'ggml', 'include'), c, '-o', exe]);
    const actual = execFileSync(exe, { encoding: 'utf8' }).trim().split('\n');
    expect(expected.length).toBeGreaterThan(105); // every field of the eleven structs, and the enums
    expect(expected).toEqual(actual);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('has the sizes the notes measured in this version (a drift of the headers shows here too)', () => {
    expect(koffi.sizeof(STRUCTS.llama_context_params)).toBe(160);
    expect(koffi.sizeof(STRUCTS.llama_model_params)).toBe(80);
    expect(koffi.sizeof(STRUCTS.llama_batch)).toBe(56);
    expect(koffi.sizeof(STRUCTS.llama_model_quantize_params)).toBe(64);
    // the notes' prototype: 336 bytes, and the fields the imatrix callback reads where ggml.h puts them
    expect(koffi.sizeof(STRUCTS.ggml_tensor)).toBe(336);
    expect(['type', 'buffer', 'ne', 'nb', 'op', 'src', 'data', 'name'].map((f) => koffi.offsetof(STRUCTS.ggml_tensor, f))).toEqual([
      0, 8, 16, 48, 80, 152, 248, 256,
    ]);
  });
});
