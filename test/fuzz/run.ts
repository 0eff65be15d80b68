/**
 * The parsers' fuzzer: `npm run fuzz -- --parser NAME|all --count N [--seed S] [--timeout-ms T] [--out DIR]`.
 *
 * Mutates valid seed files of every parser the app has (see targets.ts, mutate.ts) and runs each input on a worker
 * thread with a time limit, as the app would read it. Per parser it prints the inputs, how many were read or refused
 * with the app's typed error, and the failures: crashes (any other error, an uncaught exception, a thread out of
 * memory), hangs (over the time limit) and silent losses (a dataset input with more records in than imported + rejected,
 * and no reject saying the rest was not read). Failing inputs are kept in the output folder to replay; the exit code is 1
 * when there is any failure. The same seed gives the same inputs, per parser, on every machine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../../src-main/core/worker-entry.js';
import { mutate, rng } from './mutate.js';
import { TARGETS } from './targets.js';
import type { Job, Outcome } from './worker.js';

export interface ParserSummary {
  parser: string;
  inputs: number;
  read: number;
  refused: number;
  crashes: number;
  hangs: number;
  silentLosses: number;
  /** The first few failures: the input kept and what happened. */
  failures: { file: string; what: string }[];
}

export interface FuzzOptions {
  parsers: string[];
  count: number;
  seed: number;
  timeoutMs: number;
  out: string;
  log?: (line: string) => void;
}

/** A worker thread that runs jobs one at a time; replaced after a hang or a crash of the thread itself. */
class Runner {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;

  private start(): Promise<void> {
    const entry = workerEntry(import.meta.url, 'worker')!;
    this.worker = new Worker(entry, { resourceLimits: { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 32 } });
    const w = this.worker;
    return new Promise((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
  }

  async run(job: Job, timeoutMs: number): Promise<Outcome | { kind: 'hang' }> {
    this.ready ??= this.start();
    await this.ready;
    const w = this.worker!;
    const outcome = await new Promise<Outcome | { kind: 'hang' }>((resolve) => {
      const timer = setTimeout(() => resolve({ kind: 'hang' }), timeoutMs);
      const done = (o: Outcome) => {
        clearTimeout(timer);
        w.off('message', done);
        w.off('error', failed);
        resolve(o);
      };
      const failed = (e: Error) => done({ kind: 'crash', message: `the thread died: ${e.message}` });
      w.on('message', done);
      w.on('error', failed);
      w.postMessage(job);
    });
    if (outcome.kind === 'hang' || (outcome.kind === 'crash' && outcome.message.startsWith('the thread died'))) await this.stop();
    return outcome;
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    if (w) {
      w.removeAllListeners();
      await w.terminate();
    }
  }
}

export async function fuzz(options: FuzzOptions): Promise<ParserSummary[]> {
  const log = options.log ?? (() => {});
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-fuzz-scratch-'));
  fs.mkdirSync(options.out, { recursive: true });
  const runner = new Runner();
  const summaries: ParserSummary[] = [];
  try {
    for (const name of options.parsers) {
      const index = TARGETS.findIndex((t) => t.name === name);
      const target = TARGETS[index]!;
      const next = rng(options.seed * 1000 + index); // per parser: --parser X gives the same inputs as a run of all
      const seeds = target.seeds(scratch);
      const s: ParserSummary = { parser: name, inputs: 0, read: 0, refused: 0, crashes: 0, hangs: 0, silentLosses: 0, failures: [] };
      for (let i = 0; i < options.count; i++) {
        const { input, applied } = mutate(seeds, next, target.text);
        const file = path.join(options.out, `${name}-${options.seed}-${i}.${target.ext}`);
        fs.writeFileSync(file, input);
        const o = await runner.run({ parser: name, file, scratch }, options.timeoutMs);
        s.inputs++;
        let what: string | null = null;
        if (o.kind === 'hang') {
          s.hangs++;
          what = `hang (over ${options.timeoutMs} ms)`;
        } else if (o.kind === 'crash') {
          s.crashes++;
          what = `crash: ${o.message}`;
        } else if (o.kind === 'typed') s.refused++;
        else {
          s.read++;
          const a = o.accounting;
          // (more records out than counted in is the independent count's limit, e.g. CSV quoting it reads differently;
          // each of them came with a line and a reason: nothing vanished)
          if (a && !a.stoppedWithReason && a.recordsIn > a.imported + a.rejected) {
            s.silentLosses++;
            what = `silent loss: ${a.recordsIn} records in, ${a.imported} imported, ${a.rejected} rejected`;
          }
        }
        if (what) {
          if (s.failures.length < 5) s.failures.push({ file, what: `${what} [${applied.join(', ')}]` });
          log(`${name} #${i}: ${what.split('\n')[0]} (${file})`);
        } else fs.rmSync(file, { force: true });
      }
      summaries.push(s);
      log(`${name}: ${s.inputs} inputs, ${s.read} read, ${s.refused} refused, ${s.crashes} crashes, ${s.hangs} hangs, ${s.silentLosses} silent losses`);
    }
  } finally {
    await runner.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return summaries;
}

function parseArgs(argv: string[]): FuzzOptions {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i === -1 ? undefined : argv[i + 1];
  };
  const parser = value('--parser') ?? 'all';
  const names = TARGETS.map((t) => t.name);
  if (parser !== 'all' && !names.includes(parser)) throw new Error(`--parser must be all or one of: ${names.join(', ')}`);
  const seed = Number(value('--seed') ?? 1);
  return {
    parsers: parser === 'all' ? names : [parser],
    count: Number(value('--count') ?? 1000),
    seed,
    timeoutMs: Number(value('--timeout-ms') ?? 10_000),
    out: value('--out') ?? path.join(os.tmpdir(), `distillery-fuzz-${seed}`),
  };
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('test/fuzz/run.ts')) {
  const options = parseArgs(process.argv.slice(2));
  console.log(
    `fuzzing ${options.parsers.join(', ')}: ${options.count} inputs each, seed ${options.seed}, ${options.timeoutMs} ms per input; failing inputs kept in ${options.out}`,
  );
  const summaries = await fuzz({ ...options, log: (l) => console.log(l) });
  console.log('\nparser        inputs   read  refused  crashes  hangs  silent losses');
  for (const s of summaries) {
    console.log(
      `${s.parser.padEnd(12)} ${String(s.inputs).padStart(7)} ${String(s.read).padStart(6)} ${String(s.refused).padStart(8)} ${String(s.crashes).padStart(8)} ${String(s.hangs).padStart(6)} ${String(s.silentLosses).padStart(14)}`,
    );
    for (const f of s.failures) console.log(`  ${f.file}: ${f.what.split('\n').slice(0, 4).join(' | ')}`);
  }
  process.exitCode = summaries.some((s) => s.crashes || s.hangs || s.silentLosses) ? 1 : 0;
}
