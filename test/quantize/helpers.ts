import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readGgufHeader } from '../../src-main/core/gguf/header.js';

/** Runs a llama.cpp tool; fails the test with its output when it does not exit 0. */
export function tool(binary: string, args: string[]): string {
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 120_000 });
  const output = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0) throw new Error(`${path.basename(binary)} exited ${r.status}:\n${output.slice(-3000)}`);
  return output;
}

/** Every tensor's bytes of a GGUF, by name (its metadata aside: with an imatrix it names the matrix's file). */
export function tensorBytes(file: string): Map<string, Buffer> {
  const h = readGgufHeader(file);
  const data = fs.readFileSync(file);
  return new Map(h.tensors.map((t) => [t.name, data.subarray(t.offset, t.offset + t.byteSize)]));
}
