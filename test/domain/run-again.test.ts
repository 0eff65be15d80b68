import { describe, expect, it } from 'vitest';
import { jobDef, type JobConfig } from '../../src-shared/contract/jobs.js';
import { runAgainRoute } from '../../src-shared/domain/chain.js';
import { evalFormFromRun } from '../../src-renderer/features/evaluate/eval-again.js';
import { buildInput, DEFAULT_FORM, newVariant } from '../../src-renderer/features/evaluate/eval-form.js';
import { quantizeFormFromRun } from '../../src-renderer/features/quantize/quantize-form.js';
import { formFromRun, parseEndpointLine } from '../../src-renderer/features/distill/distill-form.js';

// "Run again from here": a past run's config (as the runs store reads it, through its kind's schema) back into its
// room's form. The form must start the same run again, except that datasets are read at their latest version.

const local = (id: number, name: string) => ({ kind: 'local' as const, modelId: id, path: `/m/${name}.gguf`, name });
const server = {
  kind: 'http' as const,
  baseUrl: 'http://10.0.0.5:8000/v1',
  model: 'big-teacher',
  name: 'big-teacher',
  apiKeySecret: 'lab',
  timeoutMs: 60_000,
  maxRetries: 2,
};

describe('run again from here', () => {
  it('an evaluation’s settings fill the Evaluate form, which starts the same evaluation on the latest version', () => {
    const config = jobDef('evaluate.run').config.parse({
      dataset: 'tickets',
      versionId: 17,
      versionNumber: 2,
      split: 'validation',
      variants: [
        {
          kind: 'model',
          model: {
            modelId: 4,
            modelPath: '/m/s.gguf',
            modelName: 'student',
            adapters: [{ id: 7, name: 'lora', filePath: '/a/l.gguf', scale: 0.5 }],
            label: 'student + lora',
          },
        },
        { kind: 'server', server, label: 'teacher' },
        { kind: 'distill', runId: 3, label: 'distilled answers' },
        { kind: 'predictions', file: '/p/preds.jsonl', label: 'preds' },
      ],
      teacher: 1,
      against: 'teacher',
      metrics: ['exact', 'regex', 'judge'],
      regex: '^yes',
      judge: { model: local(9, 'judge'), rubric: 'Correct?', maxTokens: 128 },
      generation: { temperature: 0.3, maxTokens: 64, seed: 5 },
      parallel: 2,
      limit: 10,
      divergence: false,
      systems: true,
      contamination: { against: [{ dataset: 'train-set', versionId: 3, versionNumber: 1, split: 'train' }], n: 8 },
    }) as JobConfig<'evaluate.run'>;
    const { input, errors } = buildInput(evalFormFromRun(config));
    expect(errors).toEqual({});
    expect(input).toEqual({
      dataset: 'tickets', // no version: the latest
      split: 'validation',
      variants: [
        { kind: 'model', modelId: 4, adapters: [{ id: 7, scale: 0.5 }] },
        { kind: 'server', baseUrl: 'http://10.0.0.5:8000/v1', model: 'big-teacher', apiKeySecret: 'lab', label: 'teacher' },
        { kind: 'distill', runId: 3, label: 'distilled answers' },
        { kind: 'predictions', file: '/p/preds.jsonl', label: 'preds' },
      ],
      teacher: 1,
      against: 'teacher',
      metrics: ['exact', 'regex', 'judge'],
      regex: '^yes',
      judge: { model: { modelId: 9 }, rubric: 'Correct?' },
      generation: { temperature: 0.3, maxTokens: 64, seed: 5 },
      limit: 10,
      divergence: false,
      systems: true,
      contamination: { against: [{ dataset: 'train-set', split: 'train' }], n: 8 },
    });
  });

  it('a ladder’s settings fill the Quantize form: types, importance matrix computed from a dataset at its latest version, the gate', () => {
    const config = jobDef('quantize.ladder').config.parse({
      model: { id: 3, path: '/m/merged.gguf', name: 'merged' },
      types: [
        { name: 'Q4_K_M', ftype: 15 },
        { name: 'IQ3_XXS', ftype: 23 },
      ],
      outDir: '/data/quantized/merged',
      imatrix: null,
      imatrixFrom: {
        source: { kind: 'dataset', dataset: 'tickets', versionId: 17, label: 'tickets@2', split: 'train' },
        render: 'chat',
        contextSize: 256,
        maxChunks: 20,
        file: '/data/imatrix/merged.gguf',
      },
      gate: { source: { kind: 'file', path: '/texts/wiki.txt' }, render: 'plain', contextSize: 128, speed: false },
      outputTensorType: null,
      tokenEmbeddingType: null,
      pure: false,
      allowRequantize: false,
      replace: false,
    }) as JobConfig<'quantize.ladder'>;
    expect(quantizeFormFromRun(config)).toEqual({
      modelId: 3,
      types: ['Q4_K_M', 'IQ3_XXS'],
      pure: false,
      imatrix: {
        mode: 'compute',
        file: '',
        source: { kind: 'dataset', dataset: 'tickets', version: null, split: 'train', textFile: '' },
        contextSize: '256',
        maxChunks: '20',
      },
      gate: {
        on: true,
        speed: false,
        source: { kind: 'file', dataset: '', version: null, split: 'test', textFile: '/texts/wiki.txt' },
        contextSize: '128',
        maxChunks: '',
      },
      datasets: [{ name: 'tickets', version: 2 }],
    });
    // a ladder with a matrix file and no gate
    const plain = quantizeFormFromRun({ ...config, imatrixFrom: null, imatrix: { file: '/x.imatrix', entries: 1, chunks: 1, datasets: [] }, gate: null });
    expect(plain.imatrix).toMatchObject({ mode: 'file', file: '/x.imatrix' });
    expect(plain.gate.on).toBe(false);
    expect(plain.datasets).toEqual([]);
  });

  it('only the kinds whose room has a form filled from a run offer it', () => {
    expect(runAgainRoute('distill.generate', 3)).toBe('#/distill/again/3');
    expect(runAgainRoute('quantize.ladder', 4)).toBe('#/quantize/again/4');
    expect(runAgainRoute('evaluate.run', 5)).toBe('#/evaluate/again/5');
    expect(runAgainRoute('adapters.merge', 6)).toBeNull();
    expect(runAgainRoute('datasets.import', 7)).toBeNull();
  });
});

describe('a fleet in the Distill form', () => {
  it('reads URL#model[@concurrency] lines and refuses others, naming the line', () => {
    expect(parseEndpointLine(' http://10.0.0.2:8000/v1#qwen-72b@4 ')).toEqual({ baseUrl: 'http://10.0.0.2:8000/v1', model: 'qwen-72b', concurrency: 4 });
    expect(parseEndpointLine('https://h/v1#m')).toEqual({ baseUrl: 'https://h/v1', model: 'm' });
    expect(parseEndpointLine('h:8000#m')).toEqual({ error: 'h:8000#m: write an endpoint as URL#model or URL#model@concurrency' });
    expect(parseEndpointLine('http://h/v1#m@0')).toEqual({ error: 'http://h/v1#m@0: the concurrency is 1 to 64' });
  });

  it('runs a fleet run again as its first server and one line per other endpoint', () => {
    const config = jobDef('distill.generate').config.parse({
      dataset: 'p',
      versionId: 1,
      versionNumber: 1,
      split: 'all',
      teacher: {
        kind: 'fleet',
        name: 'big on a fleet of 2',
        endpoints: [
          { baseUrl: 'http://a/v1', model: 'big', name: 'a', timeoutMs: 1000, maxRetries: 1, concurrency: 8, apiKeySecret: 'k' },
          { baseUrl: 'http://b/v1', model: 'big', name: 'b', timeoutMs: 1000, maxRetries: 1, concurrency: 2, apiKeySecret: 'k' },
        ],
      },
      template: {},
      generation: {},
      filters: {},
      parallel: 10,
      outName: 'o',
    });
    const { teacher } = formFromRun(config as JobConfig<'distill.generate'>, true);
    expect(teacher).toEqual({ source: 'server', baseUrl: 'http://a/v1', model: 'big', apiKeySecret: 'k', more: 'http://b/v1#big@2' });
  });
});

describe('a fleet in the Evaluate form', () => {
  it('a server variant with more lines is a fleet variant; a bad line is an error on the variant', () => {
    const server = { ...newVariant('server'), baseUrl: 'http://a/v1', model: 'big', more: 'http://b/v1#big@2', label: 'teacher' };
    const form = { ...DEFAULT_FORM, dataset: 'd', variants: [server, { ...newVariant('model'), modelId: 1 }] };
    const { input, errors } = buildInput(form);
    expect(errors).toEqual({});
    expect(input!.variants[0]).toEqual({
      kind: 'fleet',
      endpoints: [
        { baseUrl: 'http://a/v1', model: 'big' },
        { baseUrl: 'http://b/v1', model: 'big', concurrency: 2 },
      ],
      label: 'teacher',
    });
    const bad = buildInput({ ...form, variants: [{ ...server, more: 'b#big' }, form.variants[1]!] });
    expect(Object.values(bad.errors)).toEqual(['b#big: write an endpoint as URL#model or URL#model@concurrency']);
  });
});
