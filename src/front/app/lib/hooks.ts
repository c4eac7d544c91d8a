/** Small React hooks: fetching with abort, polling, debouncing. */
import { useEffect, useRef, useState } from 'react';
import { errorBody } from './api.ts';
import type { ApiErrorBody } from '../../../api/types.ts';

export interface Loaded<T> {
  data?: T;
  error?: ApiErrorBody['error'];
  loading: boolean;
}

/**
 * Runs `load` whenever `deps` change (aborting the previous run) and, with `pollMs`, again
 * every `pollMs` while mounted. Keeps the last data while reloading.
 */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
  pollMs?: number,
): Loaded<T> & { reload: () => void } {
  const [state, setState] = useState<Loaded<T>>({ loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setState({ data, loading: false });
      },
      (err: unknown) => {
        if (!ctl.signal.aborted)
          setState((s) => ({ data: s.data, error: errorBody(err), loading: false }));
      },
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (pollMs !== undefined) timer = setTimeout(() => setTick((t) => t + 1), pollMs);
    return () => {
      ctl.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [...deps, tick, pollMs]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** `value`, once it has not changed for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}
