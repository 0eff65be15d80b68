import { useCallback, useEffect, useRef, useState } from 'react';
import { client } from '../../client.js';
import type { GenerationEvent, GenerationStats } from '../../../src-shared/domain/playground.js';
import type { AppError } from '../../../src-shared/errors.js';
import type { OpInput } from '../../../src-shared/contract/index.js';

export type GenerationPhase = 'idle' | 'starting' | 'loading' | 'generating' | 'done' | 'error';

export interface GenerationState {
  phase: GenerationPhase;
  text: string;
  loadProgress: number;
  tokens: number;
  /** Client-side clock, for live figures while streaming. */
  startedAt: number | null;
  firstTokenAt: number | null;
  lastTokenAt: number | null;
  stats: GenerationStats | null;
  error: string | null;
}

const initial: GenerationState = {
  phase: 'idle',
  text: '',
  loadProgress: 0,
  tokens: 0,
  startedAt: null,
  firstTokenAt: null,
  lastTokenAt: null,
  stats: null,
  error: null,
};

function reduce(s: GenerationState, e: GenerationEvent): GenerationState {
  const now = performance.now();
  switch (e.type) {
    case 'loading':
      return { ...s, phase: 'loading', loadProgress: e.progress };
    case 'started':
      return { ...s, phase: 'generating', startedAt: now };
    case 'token':
      return { ...s, phase: 'generating', text: s.text + e.text, tokens: s.tokens + e.tokens, firstTokenAt: s.firstTokenAt ?? now, lastTokenAt: now };
    case 'done':
      return { ...s, phase: 'done', text: e.text, tokens: e.stats.generatedTokens, stats: e.stats };
    case 'error':
      return { ...s, phase: 'error', error: e.message };
  }
}

/** How a generation ended: its `done` event (with the text, also after Stop), or why it could not run. */
export type GenerationEnd = { type: 'done'; text: string; stats: GenerationStats } | { type: 'error'; message: string };

/**
 * One generation at a time, streamed from `playground.event`s. Events can arrive before the call that starts the
 * generation returns (they travel on another connection), so they are buffered by id until the id is known.
 * `start` resolves with how the generation ended (a chat appends the answer then).
 */
export function useGeneration() {
  const [state, setState] = useState<GenerationState>(initial);
  const current = useRef<string | null>(null);
  const early = useRef(new Map<string, GenerationEvent[]>());
  const settle = useRef<((end: GenerationEnd) => void) | null>(null);
  const apply = useCallback((e: GenerationEvent) => {
    setState((s) => reduce(s, e));
    if (e.type === 'done' || e.type === 'error') {
      settle.current?.(e.type === 'done' ? { type: 'done', text: e.text, stats: e.stats } : { type: 'error', message: e.message });
      settle.current = null;
    }
  }, []);

  useEffect(
    () =>
      client.on('playground.event', (e) => {
        if (e.generationId === current.current) {
          apply(e);
        } else if (current.current === null) {
          const list = early.current.get(e.generationId) ?? [];
          list.push(e);
          early.current.set(e.generationId, list);
        }
      }),
    [apply],
  );

  const start = useCallback(
    (input: OpInput<'playground.generate'>): Promise<GenerationEnd> => {
      current.current = null;
      early.current.clear();
      setState({ ...initial, phase: 'starting' });
      const ended = new Promise<GenerationEnd>((resolve) => (settle.current = resolve));
      client.call('playground.generate', input).then(
        ({ generationId }) => {
          current.current = generationId;
          const buffered = early.current.get(generationId) ?? [];
          early.current.clear();
          buffered.forEach(apply);
        },
        (e: AppError) => {
          setState({ ...initial, phase: 'error', error: e.message });
          settle.current?.({ type: 'error', message: e.message });
          settle.current = null;
        },
      );
      return ended;
    },
    [apply],
  );

  /** Back to nothing shown (a chat cleared or switched). */
  const reset = useCallback(() => setState(initial), []);

  const stop = useCallback(async () => {
    if (current.current) await client.call('playground.stop', { generationId: current.current });
  }, []);

  return { state, start, stop, reset, busy: ['starting', 'loading', 'generating'].includes(state.phase) };
}
