/**
 * `npm run bench -- <name> [options]`: prints one JSON line per figure. A benchmark reports; it never fails a build,
 * so only a usage error exits non-zero.
 */
import { playgroundBench } from './playground.js';
import { datasetsBench } from './datasets.js';
import { distillBench } from './distill.js';
import { adaptersBench } from './adapters.js';
import { cliBench } from './cli.js';
import { curationBench } from './curation.js';
import { quantizeBench } from './quantize.js';
import { engineBench } from './engine.js';
import { evaluateBench } from './evaluate.js';
import { trainingBench } from './training.js';

const benches: Record<string, (args: string[]) => Promise<void>> = {
  playground: playgroundBench,
  datasets: datasetsBench,
  distill: distillBench,
  adapters: adaptersBench,
  cli: cliBench,
  curation: curationBench,
  quantize: quantizeBench,
  engine: engineBench,
  evaluate: evaluateBench,
  training: trainingBench,
};

const [name, ...args] = process.argv.slice(2);
const bench = name === undefined ? undefined : benches[name];
if (!bench) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options]
  playground [--threads N] [--tokens N] [--reps N] [--model FILE.gguf] [--build-llama-tools]
  datasets [--examples N]
  distill [--prompts N] [--tokens N] [--model FILE.gguf]
  adapters [--ctx N] [--chunks N] [--model FILE.gguf --lora FILE.gguf]
  cli [--reps N] [--no-sources] [--no-npx]
  curation [--examples N]
  quantize [--case quantize|imatrix] [--model FILE.gguf] [--reps N] [--threads N] [--gate-chunks N] [--imatrix-chunks N] [--source-build]
  engine [--case generate] [--model FILE.gguf] [--parallel 1,4,8,16] [--prompt N] [--tokens N] [--threads N] [--reps N] [--source-build]
  engine [--case score|threads] [--model FILE.gguf] [--ctx N] [--batch N] [--threads N] [--tokens N] [--reps N]
  evaluate [--case metrics|divergence] [--pairs N] [--reference N] [--student FILE.gguf --teacher FILE.gguf] [--ctx N] [--batch N] [--threads N] [--tokens N] [--reps N] [--source-build]
  training [--case export|fleet] [--examples N] [--requests N]`);
  process.exit(2);
}
try {
  await bench(args);
} catch (e) {
  console.log(JSON.stringify({ bench: name, error: e instanceof Error ? e.message : String(e) }));
}
