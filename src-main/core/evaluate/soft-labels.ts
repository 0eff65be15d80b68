/**
 * Divergence against a SERVER teacher, which gives no full distribution: only its top-k alternatives per answer
 * position (stored by the distill room as token TEXTS, src-shared/domain/distill.ts `TokenLogprob`).
 *
 * KLD over the top-k plus the rest as one bucket. With the teacher's top-k probabilities p_i, the student's
 * probabilities q_i at the same tokens, P = 1 − Σp_i and Q = 1 − Σq_i:
 *
 *   KLD_k = Σ_i p_i (log p_i − log q_i) + P (log P − log Q)
 *
 * This is the KLD of the two distributions coarsened to k + 1 outcomes, so it never exceeds the full KLD (the
 * data-processing inequality) and equals it when the top-k is the whole vocabulary. Clamping: a server's rounded
 * logprobs may sum past 1 → P = max(0, 1 − Σp) (and 0 · log 0 = 0); Q is floored at REST_FLOOR (1e-12) so a bucket the
 * student leaves empty but the teacher does not costs a large finite amount instead of infinity; a q_i is never 0
 * (log-probabilities are finite).
 *
 * Mapping texts to the student's ids (`SoftLabelMapper`): a text maps to the token whose rendered piece is exactly that
 * text (special tokens rendered, as llama-server's and OpenAI's logprobs print them). Several tokens with one piece
 * (llama's byte-fallback tokens <0x41> beside "A"): the NORMAL token, then the lowest id. A piece that is not valid
 * UTF-8 alone (part of a multi-byte character) is never matched. Alignment: the teacher's answer tokens must be, one for
 * one, the student's answer tokens (same texts, in order) — otherwise the example's soft labels are refused with the
 * first position that differs. An ALTERNATIVE the student has no token for is UNMATCHED: it is left out of the top-k,
 * so its probability falls into the teacher's rest bucket (still a coarsening: KLD_k stays ≤ the full KLD); the count
 * of unmatched alternatives is reported per example.
 */
import type { TokenLogprob } from '../../../src-shared/domain/distill.js';
import type { VocabularyPieces } from '../native/vocab.js';
import { TOKEN_ATTR } from '../native/vocab.js';

export const REST_FLOOR = 1e-12;

/** KLD(teacher‖student) over the teacher's top-k plus the rest bucket (see the file's comment). Natural log. */
export function softLabelKld(teacherLogprobs: ArrayLike<number>, studentLogprobs: ArrayLike<number>): number {
  if (teacherLogprobs.length !== studentLogprobs.length)
    throw new Error(`top-k of ${teacherLogprobs.length} against ${studentLogprobs.length} student log-probabilities`);
  let kld = 0;
  let sumP = 0;
  let sumQ = 0;
  for (let i = 0; i < teacherLogprobs.length; i++) {
    const lp = teacherLogprobs[i]!;
    const lq = studentLogprobs[i]!;
    const p = Math.exp(lp);
    sumP += p;
    sumQ += Math.exp(lq);
    if (p > 0) kld += p * (lp - lq);
  }
  const restP = Math.max(0, 1 - sumP);
  const restQ = Math.max(REST_FLOOR, 1 - sumQ);
  if (restP > 0) kld += restP * (Math.log(restP) - Math.log(restQ));
  return kld;
}

/** One answer position's soft labels in the student's ids (duplicates merged), and how many alternatives did not map. */
export interface MappedPosition {
  ids: number[];
  logprobs: number[];
  unmatched: number;
}

export type AlignedSoftLabels = { ok: true; positions: MappedPosition[]; unmatched: number } | { ok: false; reason: string };

export class SoftLabelMapper {
  private readonly byText = new Map<string, number>();

  constructor(private readonly vocab: VocabularyPieces) {
    const { pieces, attrs } = vocab;
    for (let id = 0; id < pieces.length; id++) {
      const text = pieces[id];
      if (text === null || text === undefined || text === '') continue;
      const prev = this.byText.get(text);
      // the first id wins unless a NORMAL token comes later for a text a non-normal token took
      if (prev === undefined || (!(attrs[prev]! & TOKEN_ATTR.NORMAL) && attrs[id]! & TOKEN_ATTR.NORMAL)) this.byText.set(text, id);
    }
  }

  /** The student's id for a token text, or undefined. */
  id(text: string): number | undefined {
    return this.byText.get(text);
  }

  /**
   * The teacher's stored top-k per answer token, in the student's ids, when its answer tokens are the student's
   * `answerTokens` one for one (the stored labels may stop before the answer's end-of-turn token, which a server
   * does not return: those positions have no soft label).
   */
  align(stored: TokenLogprob[], answerTokens: ArrayLike<number>): AlignedSoftLabels {
    if (stored.length > answerTokens.length) {
      return { ok: false, reason: `the teacher's answer has ${stored.length} tokens, the student's tokenization of it ${answerTokens.length}` };
    }
    const positions: MappedPosition[] = [];
    let unmatched = 0;
    for (let j = 0; j < stored.length; j++) {
      const t = stored[j]!;
      const own = this.vocab.pieces[answerTokens[j]!];
      if (own !== t.token) {
        return {
          ok: false,
          reason: `answer token ${j} is ${JSON.stringify(t.token)} for the teacher but ${own === null || own === undefined ? 'a partial character' : JSON.stringify(own)} for the student: the tokenizations do not align`,
        };
      }
      const merged = new Map<number, number>();
      let miss = 0;
      for (const alt of t.top) {
        const id = this.id(alt.token);
        if (id === undefined || !Number.isFinite(alt.logprob)) {
          miss++;
          continue;
        }
        const p = Math.exp(Math.min(0, alt.logprob));
        merged.set(id, (merged.get(id) ?? 0) + p);
      }
      const ids = [...merged.keys()];
      positions.push({ ids, logprobs: ids.map((id) => Math.log(merged.get(id)!)), unmatched: miss });
      unmatched += miss;
    }
    return { ok: true, positions, unmatched };
  }
}
