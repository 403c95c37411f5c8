// Data loading: one hook that aborts stale requests, keeps the last answer while refreshing
// and re-runs when its key or the refresh tick changes.
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Resolved } from '../lib/timerange';

export interface Clock {
  range: Resolved;
  tick: number; // bumps on auto-refresh and manual refresh
}

export const ClockContext = createContext<Clock>(null as unknown as Clock);
export const useClock = () => useContext(ClockContext);

export interface Query<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload: () => void;
}

export function useQuery<T>(key: string | null, fn: (signal: AbortSignal) => Promise<T>, tick = 0): Query<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean; key: string | null }>({ loading: !!key, key });
  const [manual, setManual] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    if (key == null) {
      setState({ loading: false, key });
      return;
    }
    const ac = new AbortController();
    // A new key clears stale data; a refresh of the same key keeps it on screen.
    setState((s) => (s.key === key ? { ...s, loading: true } : { loading: true, key }));
    fnRef.current(ac.signal).then(
      (data) => !ac.signal.aborted && setState({ data, loading: false, key }),
      (error) => !ac.signal.aborted && setState({ error, loading: false, key }),
    );
    return () => ac.abort();
  }, [key, tick, manual]);
  return { data: state.key === key ? state.data : undefined, error: state.key === key ? state.error : undefined, loading: state.loading, reload: () => setManual((n) => n + 1) };
}
