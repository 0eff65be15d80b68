// What batched generation sends between the app and the engine host (both sides import these types).

/**
 * One sequence's sampling, resolved as node-llama-cpp resolves it (see `resolveSampling`), so the chain built in the
 * child is the one node-llama-cpp's addon builds: penalties → greedy when temperature is 0, else top-k → top-p →
 * min-p → temperature → dist(seed).
 */
export interface NativeSampling {
  temperature: number;
  /** ≤ 0: the whole vocabulary. */
  topK: number;
  /** Applied when within [0, 1]. */
  topP: number;
  /** Applied when > 0. */
  minP: number;
  /** 1 = off. Penalizes the last `repeatLastN` generated tokens (not the prompt), as the node-llama-cpp path did. */
  repeatPenalty: number;
  repeatLastN: number;
  /** uint32 */
  seed: number;
}

export interface NativeGenerateSpec {
  /** The prompt, already rendered through the chat template and tokenized in the app. */
  tokens: number[];
  maxTokens: number;
  sampling: NativeSampling;
  /** Texts that end the generation (matched on the detokenized text, across token boundaries); cut from the text. */
  stops: string[];
  /** Keep the top-k log-probabilities of every generated token (0 = none). */
  logprobs: number;
  /** A GBNF grammar (root rule `root`) the tokens must follow: llama.cpp's grammar sampler heads the chain. */
  grammar?: string | null;
  /** End as soon as the text so far parses as JSON (a JSON-schema grammar would allow only whitespace after). */
  stopAtJson?: boolean;
  /** Benchmarks: run to maxTokens even past an end-of-generation token (as llama-batched-bench does). */
  ignoreEog?: boolean;
}

export interface NativeTokenLogprob {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

export interface NativeGenerateResult {
  /** Generated tokens (an end-of-generation token is not included; the tokens of a stop text are). */
  tokens: number[];
  text: string;
  finishReason: 'stop' | 'length' | 'cancelled';
  promptTokens: number;
  logprobs: NativeTokenLogprob[] | null;
  /** Decode steps this sequence took part in, and those that ran after its cancel arrived (≤ 1). */
  steps: number;
  stepsAfterCancel: number | null;
  /** performance.now() in the child when the first token was sampled and when the sequence ended. */
  firstTokenAt: number | null;
  endedAt: number;
}

/** Streamed while a sequence generates (a few times a second at most): tokens so far and the text added since the last. */
export interface NativeGenerateProgress {
  tokens: number;
  text: string;
}

/** How a batch is opened: one context with `parallel` sequences of `contextSize` tokens each. */
export interface NativeBatchOptions {
  modelPath: string;
  lora: { filePath: string; scale: number }[];
  parallel: number;
  /** Tokens per sequence (prompt + generated). */
  contextSize: number;
  threads: number;
}
