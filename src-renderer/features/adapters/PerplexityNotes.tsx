import { MIN_MEANINGFUL_CHUNKS } from '../../../src-shared/domain/adapters.js';

/** What a perplexity figure means, in plain words, for the forms. */
export function PerplexityHelp({ vocabSize }: { vocabSize: number | null }) {
  return (
    <p className="muted hint" data-testid="perplexity-help">
      Perplexity is how many tokens the model is, on average, hesitating between. Guessing uniformly over the whole vocabulary scores its size
      {vocabSize ? ` (${vocabSize.toLocaleString()} for this model)` : ''}: a perplexity above that is worse than guessing, so the model or adapter is broken or
      does not match. Score at least {MIN_MEANINGFUL_CHUNKS} chunks (a longer text or a smaller context) for a figure worth comparing.
    </p>
  );
}

/** Warnings on a result: too few chunks for a meaningful figure; a perplexity above the vocabulary size. */
export function PerplexityWarnings({
  chunks,
  contextSize,
  ppls,
  vocabSize,
}: {
  chunks: number | null;
  contextSize: number | null;
  ppls: number[];
  vocabSize: number | null;
}) {
  const worst = ppls.length ? Math.max(...ppls) : null;
  const aboveVocab = vocabSize !== null && worst !== null && worst > vocabSize;
  if (!(chunks !== null && chunks < MIN_MEANINGFUL_CHUNKS) && !aboveVocab) return null;
  return (
    <div data-testid="perplexity-warnings">
      {chunks !== null && chunks < MIN_MEANINGFUL_CHUNKS && (
        <p className="warn-text">
          Only {chunks} chunk{chunks === 1 ? '' : 's'}
          {contextSize ? ` of ${contextSize} tokens` : ''} scored: too little text for a meaningful figure. Aim for {MIN_MEANINGFUL_CHUNKS} or more: a longer
          text, or a smaller context size.
        </p>
      )}
      {aboveVocab && (
        <p className="warn-text">
          A perplexity of {worst.toFixed(1)} is above the vocabulary size ({vocabSize.toLocaleString()} tokens): worse than guessing uniformly among all the
          tokens the model knows. The model or the adapter is broken or mismatched (wrong base, a bad conversion, a scale far too large).
        </p>
      )}
    </div>
  );
}

/** A "at most N chunks" entry below the threshold: said before the run starts. */
export function FewChunksHint({ maxChunks }: { maxChunks: number | null | undefined }) {
  if (maxChunks === null || maxChunks === undefined || maxChunks >= MIN_MEANINGFUL_CHUNKS) return null;
  return (
    <span className="warn-text" data-testid="few-chunks-hint">
      {maxChunks} chunk{maxChunks === 1 ? '' : 's'} give only a rough figure; {MIN_MEANINGFUL_CHUNKS} or more are needed for a meaningful one.
    </span>
  );
}
