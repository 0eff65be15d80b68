import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz } from './run.js';
import { TARGETS } from './targets.js';
import { tempDir } from '../helpers/tmp.js';

// The fuzzer itself is a script (`npm run fuzz`); this keeps it working: a short seeded run of every parser.
describe('the parsers fuzzer', () => {
  it('runs every parser on mutated inputs and finds no crash, hang or silent loss', async () => {
    const out = path.join(tempDir(), 'fuzz');
    const summaries = await fuzz({ parsers: TARGETS.map((t) => t.name), count: 30, seed: 42, timeoutMs: 20_000, out });
    expect(summaries.map((s) => s.parser)).toEqual([
      'jsonl',
      'json-array',
      'csv',
      'tsv',
      'text',
      'parquet',
      'normalizer',
      'gguf',
      'safetensors',
      'peft-config',
      'imatrix-gguf',
      'imatrix-dat',
    ]);
    for (const s of summaries) {
      expect(s.inputs, s.parser).toBe(30);
      expect(s.read + s.refused + s.crashes + s.hangs, s.parser).toBe(30);
      expect(s.failures, s.parser).toEqual([]);
    }
    // the mutations do reach past the first check: some inputs of each dataset parser are read, some refused
    for (const s of summaries.filter((x) => ['jsonl', 'csv', 'parquet'].includes(x.parser))) {
      expect(s.read, s.parser).toBeGreaterThan(0);
      expect(s.refused, s.parser).toBeGreaterThan(0);
    }
    expect(fs.readdirSync(out)).toEqual([]); // passing inputs are not kept
  }, 600_000);
});
