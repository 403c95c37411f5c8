// Routes and URL state. Everything a page shows is derived from the URL (path + query), so
// any view is a deep link: reload, back/forward and copy-paste all land on the same view.

export const RUM_TABS = ['overview', 'performance', 'vitals', 'errors', 'http', 'sessions', 'audience', 'journeys'] as const;
export type RumTab = (typeof RUM_TABS)[number];

export type Route =
  | { name: 'monitors' }
  | { name: 'monitor-new' }
  | { name: 'monitor'; monitor: string }
  | { name: 'rum'; monitor: string; tab: RumTab; sub?: string }
  | { name: 'map' }
  | { name: 'traces' }
  | { name: 'trace'; id: string }
  | { name: 'home' }
  | { name: 'notfound'; path: string };

const dec = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(dec);
  const [a, b, c, d] = parts;
  if (parts.length === 0) return { name: 'home' };
  if (a === 'monitors') {
    if (!b) return { name: 'monitors' };
    if (b === 'new' && parts.length === 2) return { name: 'monitor-new' };
    if (parts.length === 2) return { name: 'monitor', monitor: b };
  }
  if (a === 'apps' && b) {
    const tab = (c ?? 'overview') as RumTab;
    if (RUM_TABS.includes(tab) && parts.length <= 4) return { name: 'rum', monitor: b, tab, ...(d ? { sub: d } : {}) };
  }
  if (a === 'service-map' && parts.length === 1) return { name: 'map' };
  if (a === 'traces') {
    if (parts.length === 1) return { name: 'traces' };
    if (parts.length === 2) return { name: 'trace', id: b };
  }
  return { name: 'notfound', path: pathname };
}

const enc = encodeURIComponent;

export function routePath(r: Route): string {
  switch (r.name) {
    case 'home':
      return '/';
    case 'monitors':
      return '/monitors';
    case 'monitor-new':
      return '/monitors/new';
    case 'monitor':
      return `/monitors/${enc(r.monitor)}`;
    case 'rum':
      return `/apps/${enc(r.monitor)}/${r.tab}${r.sub ? '/' + enc(r.sub) : ''}`;
    case 'map':
      return '/service-map';
    case 'traces':
      return '/traces';
    case 'trace':
      return `/traces/${enc(r.id)}`;
    case 'notfound':
      return r.path;
  }
}

/** Parameters that travel with the user from page to page (time range and refresh). */
export const STICKY = ['range', 'from', 'to', 'refresh'];

/** Builds an href for a route, keeping the sticky parameters of `current` and adding `extra`. */
export function href(r: Route, current: URLSearchParams, extra: Record<string, string | undefined> = {}): string {
  const p = new URLSearchParams();
  for (const k of STICKY) {
    const v = current.get(k);
    if (v != null) p.set(k, v);
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v != null && v !== '') p.set(k, v);
  }
  const qs = p.toString();
  return routePath(r) + (qs ? '?' + qs : '');
}

/** Returns a copy of the parameters with `changes` applied; '' or undefined deletes. */
export function withParams(p: URLSearchParams, changes: Record<string, string | undefined | null>): URLSearchParams {
  const out = new URLSearchParams(p);
  for (const [k, v] of Object.entries(changes)) {
    if (v == null || v === '') out.delete(k);
    else out.set(k, v);
  }
  return out;
}

/** RUM dimension filters: URL parameter → field of the API's Filters object. */
export const RUM_FILTERS: { param: string; field: string; label: string }[] = [
  { param: 'page', field: 'Page', label: 'Page' },
  { param: 'browser', field: 'Browser', label: 'Browser' },
  { param: 'os', field: 'OS', label: 'OS' },
  { param: 'device', field: 'DeviceType', label: 'Device' },
  { param: 'country', field: 'Country', label: 'Country' },
  { param: 'version', field: 'AppVersion', label: 'App version' },
];

/** The API's Filters object from the URL; several values of one parameter are ORed. */
export function rumFilters(p: URLSearchParams): Record<string, string[]> | undefined {
  const out: Record<string, string[]> = {};
  for (const f of RUM_FILTERS) {
    const vs = p.getAll(f.param).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    if (vs.length) out[f.field] = vs;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Sort state of a table kept in the URL as "column" or "-column" (descending). */
export function parseSort(v: string | null, fallback: string): { key: string; desc: boolean } {
  const s = v || fallback;
  return s.startsWith('-') ? { key: s.slice(1), desc: true } : { key: s, desc: false };
}

export function toggleSort(current: { key: string; desc: boolean }, key: string): string {
  if (current.key === key) return current.desc ? key : '-' + key;
  return '-' + key;
}
