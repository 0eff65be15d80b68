// A sequence's llama_sampler chain, built as node-llama-cpp 3.22's addon builds it (llama/addon/AddonSampler.cpp,
// rebuildChainIfNeeded), so the same settings and seed draw the same tokens on both paths.
import type { LlamaLib, Ptr } from './ffi.js';
import type { NativeSampling } from './generate-types.js';

/** min_keep node-llama-cpp passes to top-p and min-p (max(1, n_probs) with n_probs 0). */
const MIN_KEEP = 1;

/**
 * [grammar] → [penalties] → greedy when temperature ≤ 0; else top-k (≤ 0: the whole vocabulary) → top-p (when within
 * [0, 1]) → min-p (when > 0) → temperature → dist(seed). A grammar heads the chain (node-llama-cpp applies it only when
 * the unconstrained pick breaks it; greedy picks agree either way). Throws when the grammar does not parse.
 */
export function buildSamplerChain(lib: LlamaLib, vocab: Ptr, nVocab: number, s: NativeSampling, grammar: string | null): Ptr {
  const chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params());
  const add = (smpl: Ptr) => lib.llama_sampler_chain_add(chain, smpl);
  if (grammar) {
    const g = lib.llama_sampler_init_grammar(vocab, grammar, 'root');
    if (!g) {
      lib.llama_sampler_free(chain);
      throw new Error('grammar: llama.cpp could not parse the grammar');
    }
    add(g);
  }
  if (s.repeatPenalty !== 1 && s.repeatLastN > 0) {
    // Greedy: a penalty above 1 only lowers the logits of at most repeatLastN tokens, so the pick is among the top
    // repeatLastN + 1 raw logits: cut to those first, and the penalty looks up 65 tokens instead of the whole
    // vocabulary (~20 % of a step on the fixture teacher). Same pick. (Not when sampling: the candidates' order feeds
    // the draw, and node-llama-cpp's order is what the same seed must see.)
    if (s.temperature <= 0 && s.repeatPenalty > 1 && s.repeatLastN + 1 < nVocab) add(lib.llama_sampler_init_top_k(s.repeatLastN + 1));
    add(lib.llama_sampler_init_penalties(nVocab, s.repeatLastN, s.repeatPenalty, 0, 0));
  }
  if (s.temperature <= 0) {
    add(lib.llama_sampler_init_greedy());
    return chain;
  }
  add(lib.llama_sampler_init_top_k(s.topK <= 0 ? nVocab : Math.min(s.topK, nVocab)));
  if (s.topP >= 0 && s.topP <= 1) add(lib.llama_sampler_init_top_p(s.topP, MIN_KEEP));
  if (s.minP > 0) add(lib.llama_sampler_init_min_p(s.minP, MIN_KEEP));
  add(lib.llama_sampler_init_temp(s.temperature));
  add(lib.llama_sampler_init_dist(s.seed >>> 0));
  return chain;
}

/** node-llama-cpp's defaults for what a caller leaves out (LlamaContextSequence._resolveSamplerConfig). */
export function resolveSampling(o: {
  temperature?: number | undefined;
  topK?: number | undefined;
  topP?: number | undefined;
  minP?: number | undefined;
  repeatPenalty?: number | undefined;
  seed?: number | null | undefined;
}): NativeSampling {
  return {
    temperature: o.temperature ?? 0,
    topK: o.topK ?? 40,
    topP: o.topP ?? 0.95,
    minP: o.minP ?? 0,
    repeatPenalty: o.repeatPenalty ?? 1,
    repeatLastN: 64,
    seed: Math.max(0, Math.floor(o.seed ?? Date.now() / 1000)) >>> 0,
  };
}
