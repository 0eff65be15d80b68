import { useCallback, useEffect, useState } from 'react';
import { client } from '../client.js';
import type { EventName, OpInput, OpName, OpOutput } from '../../src-shared/contract/index.js';
import type { AppError } from '../../src-shared/errors.js';

export interface Query<T> {
  /** The last answer; kept while a refetch is under way, so pages do not flicker. */
  data: T | null;
  error: AppError | null;
  loading: boolean;
  refetch(): void;
}

/**
 * Calls an operation and keeps its result; calls again when the input or `deps` change, or when one of `refetchOn`
 * events arrives (coalesced: at most one refetch per animation frame). A null input asks nothing (a form with nothing
 * chosen yet): data null, no error.
 */
export function useQuery<K extends OpName>(op: K, input: OpInput<K> | null, refetchOn: EventName[] = [], deps: unknown[] = []): Query<OpOutput<K>> {
  const [tick, setTick] = useState(0);
  const inputJson = JSON.stringify(input);
  const key = JSON.stringify([op, inputJson, tick, deps]);
  const [result, setResult] = useState<{ key: string; data: OpOutput<K> | null; error: AppError | null } | null>(null);
  const refetch = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    let live = true;
    if (inputJson === 'null') return;
    client.call(op, JSON.parse(inputJson) as OpInput<K>).then(
      (data) => live && setResult({ key, data, error: null }),
      (error: AppError) => live && setResult((prev) => ({ key, data: prev?.data ?? null, error })),
    );
    return () => {
      live = false;
    };
  }, [key, op, inputJson]);

  const events = refetchOn.join(',');
  useEffect(() => {
    if (!events) return;
    let frame = 0;
    const schedule = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        refetch();
      });
    };
    const offs = events.split(',').map((name) => client.on(name as EventName, schedule));
    return () => {
      offs.forEach((off) => off());
      if (frame) cancelAnimationFrame(frame);
    };
  }, [events, refetch]);

  if (input === null) return { data: null, error: null, loading: false, refetch };
  return { data: result?.data ?? null, error: result?.error ?? null, loading: result?.key !== key, refetch };
}

/** An action with its pending state and last error. */
export function useAction<K extends OpName>(op: K) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const run = useCallback(
    async (input: OpInput<K>): Promise<OpOutput<K> | null> => {
      setPending(true);
      setError(null);
      try {
        return await client.call(op, input);
      } catch (e) {
        setError(e as AppError);
        return null;
      } finally {
        setPending(false);
      }
    },
    [op],
  );
  return { run, pending, error, clearError: () => setError(null) };
}
