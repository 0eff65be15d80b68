import { useState } from 'react';
import { parseNumber } from '../../ui/forms.js';

/**
 * How a perplexity form cuts its text: the context size (16–32768 tokens) and at most how many chunks (empty: all).
 * `contextSize` and `chunks` are null while the typed value is not valid; `fields` are the two inputs.
 */
export function useChunking() {
  const [ctx, setCtx] = useState('512');
  const [maxChunks, setMaxChunks] = useState('');
  const contextSize = parseNumber(ctx, { min: 16, max: 32_768, int: true });
  const chunks = maxChunks.trim() ? parseNumber(maxChunks, { min: 1, int: true }) : undefined;
  const fields = (
    <>
      <label>
        context size <input aria-label="Context size" size={6} value={ctx} onChange={(e) => setCtx(e.target.value)} />
      </label>
      <label>
        at most <input aria-label="Max chunks" size={5} placeholder="all" value={maxChunks} onChange={(e) => setMaxChunks(e.target.value)} /> chunks
      </label>
    </>
  );
  return { contextSize, chunks, fields };
}
