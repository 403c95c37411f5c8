// Sessions: an id that lives while the user is active (idle timeout), and a sampling decision that
// is a pure function of that id, so every tab and every reload sharing the session agree on it.

import { uuid } from './ids';

export interface Store {
  get(): string | null;
  set(v: string | null): void;
}

export interface Session {
  id: string;
  /** Epoch ms of the last recorded activity. */
  last: number;
}

/** Decides sampling from the session id's first 32 random bits: stable for the session's life. */
export function sampled(id: string, rate: number): boolean {
  return parseInt(id.slice(0, 8), 16) / 2 ** 32 < rate;
}

export function encode(s: Session): string {
  return `${s.id}:${s.last}`;
}

export function decode(v: string | null): Session | null {
  const m = v && /^([0-9a-f-]{36}):(\d+)$/.exec(v);
  return m ? { id: m[1], last: +m[2] } : null;
}

/**
 * Returns the session live at `now`, renewing its idle timer; a session idle for timeoutMs or more
 * is replaced and `isNew` is set.
 */
export function touch(store: Store, now: number, timeoutMs: number, newId = uuid): { s: Session; isNew: boolean } {
  let s = decode(store.get());
  const isNew = !s || now - s.last >= timeoutMs || now < s.last - timeoutMs;
  if (isNew) s = { id: newId(), last: now };
  // Writing at most once a second keeps cookie churn low; a second's staleness is irrelevant next to the timeout.
  if (isNew || now - s!.last >= 1000) {
    s!.last = now;
    store.set(encode(s!));
  }
  return { s: s!, isNew };
}

export function readCookie(name: string): string | null {
  const m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
  return m ? decodeURIComponent(m[1]) : null;
}

export function cookieStore(name: string, maxAgeS: number): Store {
  return {
    get: () => readCookie(name),
    set: (v) => {
      document.cookie = `${name}=${v == null ? '' : encodeURIComponent(v)}; path=/; max-age=${v == null ? 0 : maxAgeS}; SameSite=Lax${location.protocol == 'https:' ? '; Secure' : ''}`;
    },
  };
}

/** Tab-scoped storage; falls back to memory when sessionStorage is unavailable (privacy modes, sandboxed frames). */
export function tabStore(name: string): Store {
  let mem: string | null = null;
  return {
    get: () => {
      try {
        return sessionStorage.getItem(name);
      } catch {
        return mem;
      }
    },
    set: (v) => {
      mem = v;
      try {
        v == null ? sessionStorage.removeItem(name) : sessionStorage.setItem(name, v);
      } catch {
        /* memory only */
      }
    },
  };
}
