/**
 * Divergence of a student from its teacher, teacher-forced on the teacher's answers (issue 14, point 3), on the native
 * engine path (the `scoreSequences` host op, native/score-sequences.ts):
 *
 * - a LOCAL teacher: both models decode the same batches in lockstep and their full distributions are compared at
 *   every answer position: KLD(teacher‖student), the share of positions where both most likely tokens agree, and the
 *   student's NLL of the answer — the same fold as Quantize's gate and `llama-perplexity --kl-divergence`;
 * - a SERVER teacher (`teacher: null`): the stored top-k soft labels (evaluate/soft-labels.ts: KLD over the top-k plus
 *   the rest as one bucket; top-1 = the student's most likely token is the teacher's top alternative);
 * - neither: only the student's NLL and its top-1 against the answer's tokens.
 *
 * The caller renders the chat (teacher-forcing.ts: `teacherForcedTokens` gives the prompt's and the answer's tokens;
 * the answer's positions run through the token that ends the assistant turn). Figures are per example and for the run
 * (token-weighted: the mean KLD over every scored position, as llama-perplexity averages).
 */
import type { TokenLogprob } from '../../../src-shared/domain/distill.js';
import { AppError, isAppError } from '../../../src-shared/errors.js';
import type { EngineClient } from '../native/client.js';
import type { ScoreSequencesResult, SequenceToScore } from '../native/score-sequences.js';
import { SoftLabelMapper, softLabelKld, type AlignedSoftLabels } from './soft-labels.js';

export interface DivergenceModel {
  file: string;
  adapters: { file: string; scale: number }[];
}

export interface DivergenceExample {
  promptTokens: number[];
  /** The answer's tokens (through the end-of-turn token) as the student's tokenizer renders them after the prompt. */
  answerTokens: number[];
  /** A server teacher's stored top-k per answer token (used only when `teacher` is null). */
  softLabels?: TokenLogprob[] | null;
}

export interface DivergenceInput {
  student: DivergenceModel;
  /** A local teacher scored in lockstep; null: the examples' soft labels, if any. */
  teacher: DivergenceModel | null;
  examples: DivergenceExample[];
  threads: number;
}

export interface ExampleDivergence {
  /** Answer positions scored. */
  tokens: number;
  /** Mean and max KLD(teacher‖student) over the positions compared; null when there is nothing to compare with. */
  kld: number | null;
  maxKld: number | null;
  /** Share of positions where the student's most likely token is the teacher's (without a teacher: the answer's). */
  top1: number;
  /** The student's NLL of the answer: sum and mean per token (nats). */
  nll: number;
  meanNll: number;
  /** 'lockstep' (full distributions), 'soft-labels' (top-k + rest), 'none' (NLL only). */
  compared: 'lockstep' | 'soft-labels' | 'none';
  /** Soft labels: positions compared and alternatives the student has no token for (folded into the rest bucket). */
  labelledTokens?: number;
  unmatched?: number;
  /** Why the soft labels were not used (the tokenizations do not align): NLL and top-1 against the answer only. */
  refused?: string;
}

export interface DivergenceSummary {
  examples: number;
  tokens: number;
  /** Token-weighted over the compared positions (null when none); per-example means averaged in `meanExampleKld`. */
  kld: number | null;
  meanExampleKld: number | null;
  top1: number;
  meanNll: number;
  ppl: number;
  /** Examples whose soft labels were refused. */
  refused: number;
  tokensPerSecond: number;
}

export interface DivergenceResult {
  examples: ExampleDivergence[];
  summary: DivergenceSummary;
}

export interface DivergenceOptions {
  signal?: AbortSignal;
  onExample?(index: number, figures: ExampleDivergence): void;
}

export async function divergence(client: EngineClient, input: DivergenceInput, opts: DivergenceOptions = {}): Promise<DivergenceResult> {
  const { student, teacher, examples } = input;
  if (examples.length === 0) throw new AppError('invalid_input', 'there are no examples to score', 'examples');
  examples.forEach((e, i) => {
    if (!e.answerTokens?.length) throw new AppError('invalid_input', `example ${i + 1} has an empty answer: nothing to score`, `examples.${i}.answerTokens`);
    if (!e.promptTokens?.length) throw new AppError('invalid_input', `example ${i + 1} has no prompt tokens`, `examples.${i}.promptTokens`);
  });
  // soft labels: mapped onto the student's ids, each example aligned or refused
  const soft = !teacher && examples.some((e) => e.softLabels?.length);
  let aligned: (AlignedSoftLabels | null)[] = examples.map(() => null);
  if (soft) {
    const vocab = await client.request('vocabulary', { model: { path: student.file } }, { signal: opts.signal });
    const mapper = new SoftLabelMapper(vocab);
    aligned = examples.map((e) => (e.softLabels?.length ? mapper.align(e.softLabels, e.answerTokens) : null));
  }
  const sequences: SequenceToScore[] = examples.map((e, i) => {
    const a = aligned[i];
    const seq: SequenceToScore = { tokens: [...e.promptTokens, ...e.answerTokens], from: e.promptTokens.length };
    if (a?.ok) seq.labels = e.answerTokens.map((_, j) => a.positions[j]?.ids ?? []);
    return seq;
  });
  const figuresOf = (i: number, f: ScoreSequencesResult['sequences'][number]): ExampleDivergence => {
    const base = { tokens: f.scored, nll: f.nll, meanNll: f.meanNll };
    if (teacher) return { ...base, kld: f.kld, maxKld: f.maxKld, top1: f.top1, compared: 'lockstep' };
    const a = aligned[i];
    if (!a?.ok || !f.labelLogprobs || !f.argmax) {
      return { ...base, kld: null, maxKld: null, top1: f.top1, compared: 'none', ...(a && !a.ok ? { refused: a.reason } : {}) };
    }
    let sum = 0;
    let max = 0;
    let agree = 0;
    let n = 0;
    let at = 0;
    a.positions.forEach((p, j) => {
      const q = f.labelLogprobs!.subarray(at, at + p.ids.length);
      at += p.ids.length;
      const kld = softLabelKld(p.logprobs, q);
      sum += kld;
      if (kld > max) max = kld;
      let best = -1;
      for (let k = 0; k < p.ids.length; k++) if (best < 0 || p.logprobs[k]! > p.logprobs[best]!) best = k;
      if (best >= 0 && p.ids[best] === f.argmax![j]) agree++;
      n++;
    });
    return {
      ...base,
      kld: n ? sum / n : null,
      maxKld: n ? max : null,
      top1: n ? agree / n : 0,
      compared: 'soft-labels',
      labelledTokens: n,
      unmatched: a.unmatched,
    };
  };
  const figures: (ExampleDivergence | undefined)[] = new Array<ExampleDivergence | undefined>(examples.length);
  let r: ScoreSequencesResult;
  try {
    r = await client.request(
      'scoreSequences',
      {
        model: { path: student.file },
        adapters: student.adapters.map((a) => ({ path: a.file, scale: a.scale })),
        ...(teacher ? { base: { model: { path: teacher.file }, adapters: teacher.adapters.map((a) => ({ path: a.file, scale: a.scale })) } } : {}),
        sequences,
        threads: input.threads,
      },
      {
        signal: opts.signal,
        // progress carries no arrays: soft-label figures wait for the result
        onProgress: (p) => {
          if (soft) return;
          figures[p.index] = figuresOf(p.index, p.figures);
          opts.onExample?.(p.index, figures[p.index]!);
        },
      },
    );
  } catch (e) {
    // the op names `sequences.N`: say which example
    const m = isAppError(e) && e.field ? /^sequences\.(\d+)/.exec(e.field) : null;
    if (m && isAppError(e)) throw new AppError(e.code, `example ${Number(m[1]) + 1}: ${e.message}`, `examples.${m[1]}`);
    throw e;
  }
  const out = r.sequences.map((f, i) => {
    if (figures[i] && !soft) return figures[i];
    const g = figuresOf(i, f);
    opts.onExample?.(i, g);
    return g;
  });
  return { examples: out, summary: summarize(out, r) };
}

function summarize(out: ExampleDivergence[], r: ScoreSequencesResult): DivergenceSummary {
  let tokens = 0;
  let nll = 0;
  let top = 0;
  let kldSum = 0;
  let kldN = 0;
  let exSum = 0;
  let exN = 0;
  for (const e of out) {
    tokens += e.tokens;
    nll += e.nll;
    if (e.kld !== null) {
      const n = e.labelledTokens ?? e.tokens;
      kldSum += e.kld * n;
      kldN += n;
      exSum += e.kld;
      exN++;
      top += e.top1 * n;
    }
  }
  const topN = kldN > 0 ? kldN : tokens;
  if (kldN === 0) for (const e of out) top += e.top1 * e.tokens;
  return {
    examples: out.length,
    tokens,
    kld: kldN ? kldSum / kldN : null,
    meanExampleKld: exN ? exSum / exN : null,
    top1: top / topN,
    meanNll: nll / tokens,
    ppl: Math.exp(nll / tokens),
    refused: out.filter((e) => e.refused).length,
    tokensPerSecond: r.tokensPerSecond,
  };
}
