// A minimal fake browser for running the agent in Node: just enough window, document, location,
// history, navigator, storage and fetch. Imported first by agent.test.ts.

const g = globalThis as Record<string, any>;
const win = new EventTarget();
g.self = g;
g.addEventListener = win.addEventListener.bind(win);
g.removeEventListener = win.removeEventListener.bind(win);
g.dispatchEvent = win.dispatchEvent.bind(win);
g.location = new URL('https://shop.example.com/cart?x=1');
const doc = new EventTarget() as any;
Object.assign(doc, { title: 'Shop', referrer: '', cookie: '', readyState: 'loading', visibilityState: 'visible', prerendering: false });
g.document = doc;
g.history = {
  pushState(_s: unknown, _t: string, url: string) {
    g.location.href = new URL(url, g.location.href).href;
  },
  replaceState(_s: unknown, _t: string, url: string) {
    g.location.href = new URL(url, g.location.href).href;
  },
};
const beacons: string[] = [];
Object.defineProperty(g, 'navigator', {
  value: { language: 'en-US', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0 Safari/537.36', sendBeacon: (_u: string, b: string) => (beacons.push(b), true) },
  configurable: true,
  writable: true,
});
const store = new Map<string, string>();
g.sessionStorage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => store.set(k, v), removeItem: (k: string) => store.delete(k) };
g.ErrorEvent = class ErrorEvent extends Event {
  constructor(type: string, init: Record<string, unknown>) {
    super(type);
    Object.assign(this, init);
  }
};
g.PromiseRejectionEvent = class extends Event {
  reason: unknown;
  constructor(type: string, init: { reason: unknown }) {
    super(type);
    this.reason = init.reason;
  }
};
// The agent's flush timer must not keep the test process alive.
const si = setInterval;
g.setInterval = (f: () => void, ms: number) => si(f, ms).unref();

export interface Call {
  url: string;
  init?: RequestInit;
}
export const calls: Call[] = [];
export const routes: Record<string, (c: Call) => Promise<Response>> = {};
g.fetch = (input: string | Request, init?: RequestInit) => {
  const url = typeof input == 'string' ? input : input.url;
  const c = { url, init };
  calls.push(c);
  const abs = new URL(url, g.location.href).href;
  const h = Object.entries(routes).find(([prefix]) => abs.startsWith(prefix));
  return h ? h[1](c) : Promise.resolve(new Response('ok', { status: 200 }));
};
export { beacons };
