import { describe, expect, it } from 'vitest';
import type { Interval, LeaderboardRow } from '../../src-shared/domain/evaluate.js';
import { EXAMPLE_FILTERS } from '../../src-shared/domain/evaluate.js';
import {
  axisMax,
  binLabels,
  boardMetrics,
  chartBars,
  compareBoards,
  differenceSide,
  FILTER_LABELS,
  formatAnswerMetric,
  formatDelta,
  formatInterval,
  formatMetric,
  formatPaired,
  kld,
  parseShare,
} from '../../src-renderer/features/evaluate/eval-format.js';
import { buildInput, DEFAULT_FORM, errorAt, newVariant, teacherAfterRemove, type EvalForm } from '../../src-renderer/features/evaluate/eval-form.js';

// The Evaluate pages' pure parts: how figures are written, how two boards line up, and what the start form sends (or
// which field it blames).

const iv = (mean: number, low: number, high: number, n = 40): Interval => ({ mean, low, high, n });
const row = (variant: number, label: string, metrics: LeaderboardRow['metrics'], isTeacher = false): LeaderboardRow => ({
  variant,
  label,
  isTeacher,
  answered: 40,
  failed: 0,
  metrics,
  vsTeacher: {},
  pairwise: null,
});

describe('figures on the Evaluate pages', () => {
  it('writes shares as percentages, chrF on 0–100, F1 and ROUGE-L on 0–1, the judge on 1–10', () => {
    expect(formatMetric('exact', 0.625)).toBe('62.5%');
    expect(formatMetric('pairwise', 0.5)).toBe('50.0%');
    expect(formatMetric('chrf', 48.27)).toBe('48.3');
    expect(formatMetric('f1', 0.41234)).toBe('0.412');
    expect(formatMetric('rougeL', 1)).toBe('1.000');
    expect(formatMetric('judge', 7.25)).toBe('7.25');
    expect(formatMetric('length', 31.44)).toBe('31.4');
    expect(formatMetric('exact', null)).toBe('—');
    expect(formatMetric('chrf', NaN)).toBe('—');
  });

  it("writes one answer's pass/fail metrics as ✓ or ✗ and the pairwise verdict in words", () => {
    expect(formatAnswerMetric('exact', 1)).toBe('✓');
    expect(formatAnswerMetric('schema', 0)).toBe('✗');
    expect(formatAnswerMetric('pairwise', 0.5)).toBe('tie');
    expect(formatAnswerMetric('pairwise', 1)).toBe('win');
    expect(formatAnswerMetric('chrf', 61.04)).toBe('61.0');
    expect(formatAnswerMetric('judge', undefined)).toBe('—');
  });

  it('writes differences signed, shares in percentage points, and intervals in brackets', () => {
    expect(formatDelta('exact', -0.021)).toBe('−2.1 pt');
    expect(formatDelta('chrf', 3.04)).toBe('+3.0');
    expect(formatDelta('f1', 0)).toBe('±0.000');
    expect(formatInterval('exact', iv(0.625, 0.55, 0.7))).toBe('62.5% [55.0%, 70.0%]');
    expect(formatPaired('chrf', iv(-2.1, -3.5, -0.7))).toBe('−2.1 [−3.5, −0.7]');
    expect(formatPaired('exact', iv(-0.021, -0.035, 0.004))).toBe('−2.1 pt [−3.5, +0.4]');
    expect(formatInterval('exact', undefined)).toBe('—');
  });

  it('says which side of zero a paired interval lies on', () => {
    expect(differenceSide(iv(0.1, 0.02, 0.2))).toBe('above');
    expect(differenceSide(iv(-0.1, -0.2, -0.01))).toBe('below');
    expect(differenceSide(iv(0.01, -0.02, 0.05))).toBe('across');
    expect(differenceSide(iv(0, 0, 0))).toBe('across'); // identical answers: no difference either way
    expect(differenceSide(undefined)).toBeNull();
  });

  it('writes KLDs with three significant digits, tiny ones in exponent notation, and histogram bins by lower edge', () => {
    expect(kld(0.12345)).toBe('0.123');
    expect(kld(2.5)).toBe('2.50');
    expect(kld(0.000123)).toBe('1.23e-4');
    expect(kld(0)).toBe('0');
    expect(binLabels([0, 0.05, 0.1, 0.15])).toEqual(['0', '0.0500', '0.100']);
  });

  it('reads a typed percentage as a share, and refuses what is not one', () => {
    expect(parseShare('50')).toBe(0.5);
    expect(parseShare('0')).toBe(0);
    expect(parseShare('100')).toBe(1);
    expect(parseShare('101')).toBeNull();
    expect(parseShare('-1')).toBeNull();
    expect(parseShare('')).toBeNull();
    expect(parseShare('half')).toBeNull();
  });

  it('names every example filter in plain words', () => {
    for (const f of EXAMPLE_FILTERS) expect(FILTER_LABELS[f]).toMatch(/^[A-Z][a-z]/);
    expect(FILTER_LABELS['student-wrong-teacher-right']).toBe('Student wrong, teacher right');
  });
});

describe('leaderboards', () => {
  const board = [
    row(0, 'student', { exact: iv(0.4, 0.3, 0.5), chrf: iv(40, 35, 45) }),
    row(1, 'teacher', { exact: iv(0.7, 0.6, 0.8), chrf: iv(60, 55, 65), length: iv(30, 28, 32) }, true),
  ];

  it('charts the rows that have the metric, and scales the axis to the metric', () => {
    expect(chartBars(board, 'length').map((b) => b.label)).toEqual(['teacher']);
    expect(chartBars(board, 'exact').map((b) => [b.label, b.iv.mean, b.isTeacher])).toEqual([
      ['student', 0.4, false],
      ['teacher', 0.7, true],
    ]);
    expect(axisMax('chrf', [45, 65])).toBe(100);
    expect(axisMax('exact', [0.5])).toBe(1);
    expect(axisMax('length', [32, 28])).toBeCloseTo(36.8, 9);
    expect(axisMax('length', [])).toBe(1);
  });

  it("lists the run's metrics that some row has, then the length", () => {
    expect(boardMetrics(['exact', 'f1', 'chrf'], board)).toEqual(['exact', 'chrf', 'length']);
    expect(boardMetrics(['chrf'], [board[0]!])).toEqual(['chrf']);
  });

  it('lines up two boards by label, then by position, and keeps the variants only one run has', () => {
    const other = [
      row(0, 'teacher', { exact: iv(0.75, 0.65, 0.85) }, true),
      row(1, 'student', { exact: iv(0.5, 0.4, 0.6) }),
      row(2, 'student + lora', { exact: iv(0.55, 0.45, 0.65) }),
    ];
    const c = compareBoards(board, other, 'exact');
    expect(c.map((x) => [x.label, x.a?.mean ?? null, x.b?.mean ?? null])).toEqual([
      ['student', 0.4, 0.5],
      ['teacher', 0.7, 0.75],
      ['student + lora', null, 0.55],
    ]);
    expect(c[0]!.diff).toBeCloseTo(0.1, 12);
    expect(c[1]!.diff).toBeCloseTo(0.05, 12);
    expect(c[2]!.diff).toBeNull();
    // renamed variants: matched by position when no label matches
    const renamed = compareBoards([row(0, 'a', { chrf: iv(10, 5, 15) })], [row(0, 'b', { chrf: iv(12, 6, 18) })], 'chrf');
    expect(renamed).toHaveLength(1);
    expect(renamed[0]!.diff).toBe(2);
  });
});

describe('the start form', () => {
  const form = (patch: Partial<EvalForm>): EvalForm => ({
    ...DEFAULT_FORM,
    dataset: 'qa',
    variants: [
      { ...newVariant(), modelId: 1 },
      { ...newVariant(), modelId: 2 },
    ],
    ...patch,
  });

  it("sends two library models, the teacher's index, the metrics in the contract's order and the generation", () => {
    const { input, errors } = buildInput(form({ metrics: ['chrf', 'exact'], limit: '10' }));
    expect(errors).toEqual({});
    expect(input).toEqual({
      dataset: 'qa',
      split: 'test',
      variants: [
        { kind: 'model', modelId: 1, adapters: [] },
        { kind: 'model', modelId: 2, adapters: [] },
      ],
      teacher: 1,
      against: 'reference',
      metrics: ['exact', 'chrf'],
      generation: { temperature: 0, maxTokens: 256, seed: 42 },
      limit: 10,
      divergence: true,
      systems: true,
    });
  });

  it('sends a server, a distillation run and a predictions file, each with its label', () => {
    const { input } = buildInput(
      form({
        variants: [
          { ...newVariant('server'), baseUrl: ' http://127.0.0.1:9000/v1 ', model: 'big', apiKeySecret: 'work', label: 'API' },
          { ...newVariant('distill'), runId: 7 },
          { ...newVariant('predictions'), file: '/tmp/p.jsonl' },
          { ...newVariant('model'), modelId: 3, adapters: [{ id: 4, scale: '0.5' }] },
        ],
        teacher: 0,
        version: '2',
      }),
    );
    expect(input?.version).toBe(2);
    expect(input?.variants).toEqual([
      { kind: 'server', baseUrl: 'http://127.0.0.1:9000/v1', model: 'big', apiKeySecret: 'work', label: 'API' },
      { kind: 'distill', runId: 7 },
      { kind: 'predictions', file: '/tmp/p.jsonl' },
      { kind: 'model', modelId: 3, adapters: [{ id: 4, scale: 0.5 }] },
    ]);
  });

  it('blames each bad field by the contract path the service would name', () => {
    const { input, errors } = buildInput(
      form({
        dataset: '',
        variants: [
          { ...newVariant('server'), baseUrl: 'ftp://x', model: '' },
          { ...newVariant('model'), modelId: 2, adapters: [{ id: 4, scale: 'x' }] },
        ],
        metrics: ['schema', 'regex', 'pairwise'],
        jsonSchema: '{"type": ',
        regex: '(',
        temperature: '9',
        seed: '-1',
        limit: '0',
        teacher: null,
      }),
    );
    expect(input).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(
      [
        'dataset',
        'variants.0.baseUrl',
        'variants.0.model',
        'variants.1.adapters',
        'metrics',
        'judge',
        'regex',
        'jsonSchema',
        'generation.temperature',
        'generation.seed',
        'limit',
      ].sort(),
    );
    expect(errors.jsonSchema).toMatch(/^not JSON: /);
    expect(errors.metrics).toBe('the pairwise judge compares with the teacher: choose one');
  });

  it('refuses a JSON schema that parses but is not an object, and asks for a judge model and rubric', () => {
    const { errors } = buildInput(form({ jsonSchema: '[1, 2]', judging: true, rubric: ' ' }));
    expect(errors.jsonSchema).toBe('a JSON schema is an object ({ … })');
    expect(errors['judge.model']).toBe('choose the judge model');
    expect(errors['judge.rubric']).toBe('the rubric the judge scores by');
  });

  it("places the service's field error at the field or the field that holds it; the form's own only once tried", () => {
    const server = { field: 'variants.1.baseUrl', message: 'evaluate.start: variants.1.baseUrl: Invalid URL' };
    expect(errorAt('variants.1.baseUrl', {}, server, false)).toBe(server.message);
    expect(errorAt('variants.1', {}, server, false)).toBe(server.message);
    expect(errorAt('variants.10', {}, { ...server, field: 'variants.10.model' }, false)).toBe(server.message);
    expect(errorAt('variants.1', {}, { ...server, field: 'variants.10.model' }, false)).toBeNull();
    expect(errorAt('variants', {}, server, false, true)).toBeNull(); // a catch-all line: the variant shows it
    expect(errorAt('variants', {}, { ...server, field: 'variants' }, false, true)).toBe(server.message);
    expect(errorAt('dataset', { dataset: 'choose a dataset' }, null, false)).toBeNull();
    expect(errorAt('dataset', { dataset: 'choose a dataset' }, null, true)).toBe('choose a dataset');
  });

  it('keeps the teacher on its variant when another is removed', () => {
    expect(teacherAfterRemove(2, 0)).toBe(1);
    expect(teacherAfterRemove(2, 3)).toBe(2);
    expect(teacherAfterRemove(2, 2)).toBeNull();
    expect(teacherAfterRemove(null, 0)).toBeNull();
  });
});
