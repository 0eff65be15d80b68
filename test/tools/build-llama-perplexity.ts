/**
 * `node --import tsx test/tools/build-llama-perplexity.ts`: builds llama.cpp's llama-perplexity (CPU) from the source
 * node-llama-cpp bundles, once per machine: cached under ~/.cache/distillery/llama.cpp/<tag>-src/build. The app's
 * perplexity (src-main/core/adapters/perplexity.ts) is checked against it figure for figure. Does nothing when it is
 * already built (with llama-server's objects in place the build takes seconds; from nothing, minutes).
 */
import { spawnSync } from 'node:child_process';
import { mulberry32 } from '../../src-main/core/random.js';
import { buildLlamaTools, llamaTool } from '../bench/llama-tools.js';

export function ensureLlamaPerplexity(): string {
  const existing = llamaTool('llama-perplexity');
  if (existing) return existing;
  console.error('building llama-perplexity from the bundled llama.cpp source (once per machine; minutes on 2 cores)…');
  buildLlamaTools(['llama-perplexity']);
  const built = llamaTool('llama-perplexity');
  if (!built) throw new Error('llama-perplexity was not built');
  return built;
}

export interface LlamaPerplexityRun {
  ppl: number;
  /** The "+/-" it prints. */
  stderr: number;
  /** Chunks it reports in "calculating perplexity over N chunks". */
  chunks: number;
  seconds: number;
  output: string;
}

/**
 * Runs `llama-perplexity -m MODEL -f FILE -c N -t T [--lora-scaled FILE:SCALE,...] [--chunks K]` and parses its
 * "Final estimate: PPL = X +/- Y". Note its `-f` drops one trailing newline of the file.
 */
export function llamaPerplexity(
  binary: string,
  opts: { model: string; textFile: string; contextSize: number; threads: number; adapters?: { filePath: string; scale: number }[]; chunks?: number },
): LlamaPerplexityRun {
  const args = ['-m', opts.model, '-f', opts.textFile, '-c', String(opts.contextSize), '-t', String(opts.threads), '-tb', String(opts.threads)];
  if (opts.adapters?.length) args.push('--lora-scaled', opts.adapters.map((a) => `${a.filePath}:${a.scale}`).join(','));
  if (opts.chunks !== undefined) args.push('--chunks', String(opts.chunks));
  const start = performance.now();
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 300_000 });
  const seconds = (performance.now() - start) / 1000;
  const output = `${r.stdout}\n${r.stderr}`;
  const m = /Final estimate: PPL = ([\d.]+) \+\/- ([\d.]+)/.exec(output);
  if (!m) throw new Error(`llama-perplexity printed no final estimate (exit ${r.status}):\n${output.slice(-3000)}`);
  const chunks = /calculating perplexity over (\d+) chunks/.exec(output);
  return { ppl: Number(m[1]), stderr: Number(m[2]), chunks: chunks ? Number(chunks[1]) : NaN, seconds, output };
}

const WORDS = (
  'the a of and to in is that it was for on are with as his they be at one have this from or had by word but what some we can out ' +
  'other were all there when up use your how said an each she which do their time if will way about many then them write would like ' +
  'so these her long make thing see him two has look more day could go come did number sound no most people my over know water than ' +
  'call first who may down side been now find model small teacher student learns answer question data set train loss weight'
).split(' ');

/** Deterministic English-ish text: `sentences` sentences of 5-14 words from a fixed list, paragraphs every 8 or so. */
export function perplexityText(seed: number, sentences: number): string {
  const next = mulberry32(seed);
  const pick = () => WORDS[Math.floor(next() * WORDS.length)]!;
  const out: string[] = [];
  for (let s = 0; s < sentences; s++) {
    const words = Array.from({ length: 5 + Math.floor(next() * 10) }, pick);
    words[0] = words[0]![0]!.toUpperCase() + words[0]!.slice(1);
    if (words.length > 8 && next() < 0.4) words[Math.floor(words.length / 2)] += ',';
    out.push(`${words.join(' ')}${next() < 0.1 ? '?' : '.'}`);
    if (s % 8 === 7) out.push('\n\n');
  }
  return out
    .join(' ')
    .replace(/ ?\n\n ?/g, '\n\n')
    .trimEnd();
}

if (process.argv[1]?.endsWith('build-llama-perplexity.ts')) console.log(ensureLlamaPerplexity());
