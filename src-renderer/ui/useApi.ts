import { useCallback, useEffect, useRef, useState } from 'react';
import { client } from '../client.js';
import type { EventName, OpInput, OpName, OpOutput } from '../../src-shared/contract/index.js';
import type { AppError } from '../../src-shared/errors.js';

export interface Query<T> {
  data: T | null;
  error: AppError | null;
  loading: boolean;
  refetch(): void;
}

/**
 * Calls an operation and keeps its result; calls again when `deps` change or when one of `refetchOn` events arrives
 * (events are coalesced: at most one refetch per animation frame).
 */
export function useQuery<K extends OpName>(op: K, input: OpInput<K>, refetchOn: EventName[] = [], deps: unknown[] = []): Query<OpOutput<K>> {
  const [data, setData] = useState<OpOutput<K> | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const inputRef = useRef(input);
  inputRef.current = input;
  const refetch = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    let live = true;
    setLoading(true);
    client.call(op, inputRef.current).then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (e: AppError) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [op, tick, ...deps]);

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

  return { data, error, loading, refetch };
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
