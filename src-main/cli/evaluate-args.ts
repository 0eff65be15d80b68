// The arguments of `distillery evaluate`: a variant SPEC (a library model or GGUF file with `+adapter[:scale]` parts,
// an OpenAI-compatible server `http(s)://host/v1#model`, `answers:DATASET[@v]` or `predictions:FILE.jsonl`), a judge
// SPEC, and dataset references with a split (`NAME[@v][:split]`). A SPEC that cannot be read is a usage error whose one
// line names the argument; one that names something the library lacks is resolved against it (datasets, runs, adapters).
import fs from 'node:fs';
import path from 'node:path';
import { CommanderError } from 'commander';
import type { Client } from '../../src-shared/client.js';
import type { OpInput } from '../../src-shared/contract/index.js';
import { EVAL_METRICS, type EvalMetric } from '../../src-shared/domain/evaluate.js';
import { loraArgs } from './adapters.js';
import { modelArg } from './open.js';
import { parseRef, SPLIT_CHOICES, usageError, type SplitName } from './options.js';
import type { EndpointArg } from './fleet-args.js';

/** A variant as evaluate.start takes it. */
export type VariantInput = OpInput<'evaluate.start'>['variants'][number];

/** What a SPEC says, before anything is looked up. */
export type VariantSpec =
  | { kind: 'model'; model: string; adapters: string[] }
  | { kind: 'server'; baseUrl: string; model: string }
  | { kind: 'fleet'; endpoints: EndpointArg[] }
  | { kind: 'answers'; dataset: string; version?: number }
  | { kind: 'predictions'; file: string };

const SPEC_FORMS = 'a model id or GGUF file [+adapter[:scale]…], http(s)://host/v1#model, answers:DATASET[@v] or predictions:FILE.jsonl';

/** `--variant X: <reason>` as a usage error. */
const bad = (flag: string, raw: string, reason: string) => usageError('badVariant', `${flag} ${raw}: ${reason}`);

/** A usage error thrown by a shared parser (parseRef), its message prefixed with the argument it came from. */
function within<T>(flag: string, raw: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CommanderError) throw bad(flag, raw, e.message.replace(/^"[^"]*": /, ''));
    throw e;
  }
}

/** Reads a SPEC (syntax only: a model file must exist, nothing is looked up in the library). */
export function parseVariantSpec(raw: string, flag: string): VariantSpec {
  const spec = raw.trim();
  if (!spec) throw bad(flag, JSON.stringify(raw), `empty; give ${SPEC_FORMS}`);
  if (/^https?:\/\//i.test(spec)) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw bad(flag, spec, 'not a valid URL');
    }
    let model: string;
    try {
      model = decodeURIComponent(url.hash.slice(1)).trim();
    } catch {
      throw bad(flag, spec, `the model name after # is not valid percent-encoding`);
    }
    if (!model) throw bad(flag, spec, "name the server's model after #, e.g. http://127.0.0.1:8080/v1#qwen2.5-7b");
    url.hash = '';
    return { kind: 'server', baseUrl: url.toString(), model };
  }
  if (spec.startsWith('answers:')) {
    const ref = spec.slice('answers:'.length).trim();
    if (!ref) throw bad(flag, spec, 'name the dataset a distillation run made: answers:DATASET[@v]');
    const { name, version } = within(flag, spec, () => parseRef(ref));
    return { kind: 'answers', dataset: name, ...(version ? { version } : {}) };
  }
  if (spec.startsWith('predictions:')) {
    const file = spec.slice('predictions:'.length).trim();
    if (!file) throw bad(flag, spec, 'name the file: predictions:FILE.jsonl');
    const abs = path.resolve(file);
    if (!fs.existsSync(abs)) throw bad(flag, spec, `no such file ${abs}`);
    return { kind: 'predictions', file: abs };
  }
  // A model, and its adapters after `+` (a file whose own name holds a `+` is taken whole).
  const [model, ...adapters] = fs.existsSync(spec) ? [spec] : spec.split('+').map((p) => p.trim());
  if (!model) throw bad(flag, spec, `no model before the first +; give ${SPEC_FORMS}`);
  for (const a of adapters) {
    if (!a) throw bad(flag, spec, 'an empty adapter after +; give +ADAPTER or +ADAPTER:SCALE');
    const colon = a.lastIndexOf(':');
    const scale = colon < 0 ? '' : a.slice(colon + 1);
    // ADAPTER:SCALE; a colon inside a Windows path (C:\…) is not a scale
    if (colon >= 0 && !/[\\/]/.test(scale) && !/^-?\d+(\.\d+)?$/.test(scale))
      throw bad(flag, spec, `the scale of adapter ${a.slice(0, colon)} must be a number, not "${scale}"`);
    if (colon === 0) throw bad(flag, spec, `no adapter name before :${scale}`);
  }
  if (/^\d+$/.test(model)) {
    if (Number(model) <= 0) throw bad(flag, spec, 'a model id is a positive number');
  } else if (!fs.existsSync(path.resolve(model))) {
    throw bad(flag, spec, `no model file ${path.resolve(model)}; give ${SPEC_FORMS}`);
  }
  return { kind: 'model', model, adapters };
}

/** The API key of server variants: from an environment variable or a saved secret, never on the command line. */
export interface ServerKey {
  apiKeyEnv?: string;
  apiKeySecret?: string;
}

/** A SPEC as evaluate.start's variant: models and adapter files are added to the library; answers:… is checked. */
export async function resolveVariant(c: Client, spec: VariantSpec, raw: string, flag: string, key: ServerKey, evaluated: string): Promise<VariantInput> {
  switch (spec.kind) {
    case 'model': {
      const modelId = await modelArg(c, spec.model);
      return { kind: 'model', modelId, adapters: await loraArgs(c, spec.adapters, modelId, `${flag} ${raw}: adapter`) };
    }
    case 'server':
      return { kind: 'server', baseUrl: spec.baseUrl, model: spec.model, ...key };
    case 'fleet':
      return { kind: 'fleet', endpoints: spec.endpoints.map((e) => ({ ...e, ...key })) };
    case 'predictions':
      return { kind: 'predictions', file: spec.file };
    case 'answers': {
      const d = await c.call('datasets.get', { name: spec.dataset, ...(spec.version ? { version: spec.version } : {}), previewLimit: 0 });
      const at = `${d.name}@${d.version.number}`;
      const runId = d.version.runId;
      if (runId === null) throw bad(flag, raw, `${at} was not made by a run (it was committed by hand), so it has no distillation answers`);
      const run = await c.call('runs.get', { id: runId });
      if (run.kind !== 'distill.generate') throw bad(flag, raw, `${at} was made by run ${runId}, a ${run.kind} run, not a distillation (distill.generate)`);
      // its answers are matched to the evaluated examples by position: only another dataset's prompts would be wrong
      if (run.config && run.config.dataset !== evaluated) {
        throw bad(flag, raw, `${at} holds the answers to ${run.config.dataset}@${run.config.versionNumber}'s prompts, not to ${evaluated}'s`);
      }
      return { kind: 'distill', runId, label: at };
    }
  }
}

/** The judge: a library model or GGUF file (no adapters), or a server. */
export async function resolveJudge(c: Client, raw: string, key: ServerKey) {
  const spec = parseVariantSpec(raw, '--judge');
  if (spec.kind === 'server') return { baseUrl: spec.baseUrl, model: spec.model, ...key };
  if (spec.kind === 'model' && spec.adapters.length === 0) return { modelId: await modelArg(c, spec.model) };
  throw bad('--judge', raw, 'the judge is a model id or GGUF file (without adapters), or http(s)://host/v1#model');
}

/** `NAME[@v][:split]`: a dataset version's split (`split` when none is given). */
export function parseSplitRef(raw: string, flag: string, split: SplitName): { dataset: string; version?: number; split: SplitName } {
  const colon = raw.lastIndexOf(':');
  const suffix = colon < 0 ? '' : raw.slice(colon + 1);
  let ref = raw;
  if (colon >= 0 && (SPLIT_CHOICES as string[]).includes(suffix)) {
    ref = raw.slice(0, colon);
    split = suffix as SplitName;
  } else if (colon >= 0 && !suffix.includes('@')) {
    throw usageError('badRef', `${flag} ${raw}: "${suffix}" is not a split; choose from ${SPLIT_CHOICES.join(', ')}`);
  }
  if (!ref.trim()) throw usageError('badRef', `${flag} ${raw}: name a dataset, NAME[@v][:split]`);
  const { name, version } = within(flag, raw, () => parseRef(ref));
  return { dataset: name, ...(version ? { version } : {}), split };
}

/** `exact,f1,chrf` → checked metric names. */
export function parseMetrics(raw: string): EvalMetric[] {
  const names = raw
    .split(',')
    .map((m) => m.trim())
    // every answer's length is measured anyway
    .filter((m) => m && m.toLowerCase() !== 'length');
  const known = EVAL_METRICS as readonly string[];
  for (const m of names) {
    const fixed = known.find((k) => k.toLowerCase() === m.toLowerCase());
    if (!fixed) throw usageError('badMetric', `--metrics: "${m}" is not a metric; choose from ${EVAL_METRICS.join(', ')}`);
  }
  if (names.length === 0) throw usageError('badMetric', `--metrics: give at least one of ${EVAL_METRICS.join(', ')}`);
  return [...new Set(names.map((m) => known.find((k) => k.toLowerCase() === m.toLowerCase()) as EvalMetric))];
}

/** A number option (`--temperature 0.7`), or a usage error naming it. */
export function numberOption(raw: string, flag: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw usageError('badNumber', `${flag} must be a number, not "${raw}"`);
  return n;
}
