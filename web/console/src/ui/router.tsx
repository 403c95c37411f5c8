// A minimal history-API router: the URL is the state; links are real <a href> so they work
// with the keyboard, middle-click and copy-link.
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { parseRoute, Route } from '../lib/urlstate';

export interface Loc {
  path: string;
  params: URLSearchParams;
  route: Route;
}

function current(): Loc {
  return { path: location.pathname, params: new URLSearchParams(location.search), route: parseRoute(location.pathname) };
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  dispatchEvent(new Event('sightline:navigate'));
}

/** Replaces query parameters of the current URL (filters typed into a page). */
export function setParams(p: URLSearchParams, opts: { replace?: boolean } = { replace: true }): void {
  const qs = p.toString();
  navigate(location.pathname + (qs ? '?' + qs : ''), opts);
}

export function useLocationState(): Loc {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const on = () => setLoc(current());
    addEventListener('popstate', on);
    addEventListener('sightline:navigate', on);
    // Same-origin link clicks become history navigations.
    const click = (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const a = (e.target as Element | null)?.closest?.('a');
      if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
      if (a.getAttribute('href')?.startsWith('#')) return;
      e.preventDefault();
      navigate(a.pathname + a.search);
      window.scrollTo(0, 0);
    };
    document.addEventListener('click', click);
    return () => {
      removeEventListener('popstate', on);
      removeEventListener('sightline:navigate', on);
      document.removeEventListener('click', click);
    };
  }, []);
  return loc;
}

export const LocContext = createContext<Loc>(null as unknown as Loc);
export const useLoc = () => useContext(LocContext);
