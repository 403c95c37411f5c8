// The browser side: wires session, config, instrumentation and transport together. Written as
// one closure rather than a class so the minifier can shorten every internal name: the bundle
// has a hard size budget.

import { isOwn, resolve, sameOrigin, traceAllowed } from './allow';
import { Config, DEFAULTS, ingestUrl, mergeConfig, pageAllowed, pageId, remoteConfigUrl, remoteFields, Telemetry } from './config';
import { newTrace, TraceIds, traceparent, uuid, xrayHeader, ZERO_UUID } from './ids';
import { caps as newCaps, navigationDetails, resourceDetails, trimStack } from './perf';
import { cookieStore, readCookie, sampled, Store, tabStore, touch } from './session';
import { createTransport, gzip, makeEvent, Transport, UserDetails } from './transport';
import { parseUA } from './ua';
import { observeVitals, P } from './vitals';
import { httpEvent, segment } from './xray';

declare const __VERSION__: string;
export const VERSION = typeof __VERSION__ == 'string' ? __VERSION__ : '0.0.0';

const YEAR_S = 31536000;
const QUEUE_LIMIT = 1000;
const BATCH_LIMIT = 100;
const ERROR_LIMIT = 50;
const CONFIG_TIMEOUT_MS = 2000;

export interface PageView {
  pageId: string;
  pageTags?: string[];
  pageAttributes?: Record<string, unknown>;
}

export interface Agent {
  recordEvent(type: string, data: unknown): void;
  setUser(id: string | null): void;
  addSessionAttributes(attrs: Record<string, unknown>): void;
  recordPageView(v: string | PageView): void;
  allowCookies(allow: boolean): void;
  /** Sends what is queued now (normally every flushIntervalMs). */
  flush(): Promise<void>;
  /** dropped = events lost to queue overflow or refused/undeliverable batches. */
  stats(): { queued: number; dropped: number; sampled: boolean; sessionId: string };
}

type Pending = [type: string, details: unknown, tel: Telemetry | undefined, meta: Record<string, unknown>, href: string, now: number];

interface Ctx {
  m: string;
  url: string;
  abs: URL;
  start: number;
  trace?: TraceIds;
  headers: [string, string][];
}

const idle = (f: () => void) => ('requestIdleCallback' in self ? requestIdleCallback(f, { timeout: 2000 }) : setTimeout(f, 1));
const sessionStore = (c: Config): Store => (c.allowCookies ? cookieStore('sl_s', c.sessionTimeoutMs / 1000) : tabStore('sl_s'));

export function createAgent(snippet: Partial<Config>): Agent {
  let cfg = mergeConfig(DEFAULTS, snippet);
  let ready = false;
  const pre: Pending[] = [];
  let store: Store;
  let sid = '';
  let isSampled = false;
  let user: UserDetails;
  let userId: string | undefined;
  let consent: boolean | undefined;
  let page: (PageView & { interaction: number; start: number; parentPageId?: string }) | undefined;
  let t: Transport;
  const w = self;
  const loc = location;
  const doc = document;
  const origFetch = w.fetch.bind(w);
  const ep = resolve(cfg.endpoint, loc.href);
  const endpoint = (cfg.endpoint = ep ? ep.href.replace(/\/+$/, '') : '');
  const caps = newCaps({ resource: cfg.resourceLimit, error: ERROR_LIMIT });

  const newUser = () => {
    let uid = userId;
    if (!uid && cfg.allowCookies) {
      uid = readCookie('sl_u') || uuid();
      cookieStore('sl_u', YEAR_S).set(uid);
    }
    user = { userId: uid || ZERO_UUID, sessionId: sid };
  };

  const meta = () => {
    const p = page!;
    const m: Record<string, unknown> = { ...p.pageAttributes, title: doc.title, pageId: p.pageId, interaction: p.interaction };
    if (p.parentPageId != null) m.parentPageId = p.parentPageId;
    if (p.pageTags) m.pageTags = p.pageTags;
    return m;
  };

  /** Renews the session; a new one starts with session_start_event and its own sampling decision. */
  const session = (now: number) => {
    const { s, isNew } = touch(store, now, cfg.sessionTimeoutMs);
    if (s.id == sid) return;
    sid = s.id;
    isSampled = sampled(sid, cfg.sessionSampleRate);
    newUser();
    if (isNew && isSampled) t.push(makeEvent(P + 'session_start_event', { version: '1.0.0' }, meta(), now), user);
  };

  const emit = ([type, details, tel, m, href, now]: Pending) => {
    if ((tel && cfg.telemetries.indexOf(tel) < 0) || !pageAllowed(cfg, href) || t.stopped) return;
    session(now);
    if (!isSampled) return;
    t.push(makeEvent(type, details, m, now), user);
    if (t.queue.length >= BATCH_LIMIT) idle(() => t.flush());
  };

  /** Events recorded before the config has arrived wait in `pre`, oldest dropped past queueLimit. */
  const record = (type: string, details: unknown, tel?: Telemetry) => {
    const p: Pending = [type, details, tel, meta(), loc.href, Date.now()];
    if (ready) emit(p);
    else if (pre.push(p) > QUEUE_LIMIT) pre.shift();
  };

  const api: Agent = {
    recordEvent: (type, data) => record(String(type), data),
    setUser(id) {
      userId = id ? String(id) : undefined;
      newUser();
    },
    addSessionAttributes: (attrs) => Object.assign(cfg.sessionAttributes, attrs),
    recordPageView(v) {
      const pv: PageView = typeof v == 'string' ? { pageId: v } : v;
      const prev = page;
      const now = Date.now();
      const interaction = prev ? prev.interaction + 1 : 0;
      page = { ...pv, interaction, start: now, parentPageId: prev?.pageId };
      caps.reset();
      const ref = doc.referrer;
      const d: Record<string, unknown> = {
        version: '1.0.0',
        pageId: pv.pageId,
        interaction,
        pageInteractionId: pv.pageId + '-' + interaction,
        referrer: ref,
        referrerDomain: ref && resolve(ref, loc.href)?.hostname,
      };
      if (prev) {
        d.parentPageInteractionId = prev.pageId + '-' + prev.interaction;
        d.timeOnParentPage = now - prev.start;
      }
      record(P + 'page_view_event', d);
    },
    allowCookies(allow) {
      consent = cfg.allowCookies = !!allow;
      if (!allow) {
        cookieStore('sl_s', 0).set(null);
        cookieStore('sl_u', 0).set(null);
      }
      if (!ready) return;
      // Carry the live session over so switching storage does not start a new one.
      const v = store.get();
      store = sessionStore(cfg);
      if (v) store.set(v);
      newUser();
    },
    flush: () => (ready ? t.flush() : Promise.resolve()),
    stats: () => ({ queued: ready ? t.queue.length : pre.length, dropped: ready ? t.dropped : 0, sampled: isSampled, sessionId: sid }),
  };

  // ---- startup: remote config (cached for the tab's session), then the session ----

  const loadConfig = async (): Promise<Partial<Config> | null> => {
    if (!endpoint) return null;
    const cache = tabStore('sl_cfg_' + cfg.appMonitorId);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), CONFIG_TIMEOUT_MS);
    try {
      const hit = cache.get();
      if (hit) return JSON.parse(hit);
      const res = await origFetch(remoteConfigUrl(cfg), { signal: ac.signal, credentials: 'omit' });
      if (!res.ok) return null;
      const r = remoteFields(await res.json());
      cache.set(JSON.stringify(r));
      return r;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  };

  const start = (remote: Partial<Config> | null) => {
    const c = (cfg = mergeConfig(cfg, remote, consent == null ? null : { allowCookies: consent }));
    store = sessionStore(c);
    t = createTransport({
      url: ingestUrl(c),
      appMonitorId: c.appMonitorId,
      appVersion: c.appVersion,
      send: (url, body, headers) => origFetch(url, { method: 'POST', body: body as BodyInit, headers, keepalive: body.length < 60000 }).then((r) => r.status),
      beacon: (url, body) => navigator.sendBeacon(url, body),
      wait: (ms) => new Promise((r) => setTimeout(r, ms)),
      gzip,
      sessionMetadata: () => ({
        browserLanguage: navigator.language,
        ...parseUA(navigator.userAgent),
        platformType: 'web',
        domain: loc.hostname,
        'aws:client': 'sightline',
        'aws:clientVersion': VERSION,
        ...c.sessionAttributes,
      }),
    });
    ready = true;
    session(Date.now());
    for (const p of pre.splice(0)) emit(p);
    setInterval(() => idle(() => t.flush()), c.flushIntervalMs);
  };

  // ---- errors ----

  const err = (type: string, message: string, stack: unknown, extra?: object) => {
    if (caps.allow('error')) record(P + 'js_error_event', { version: '1.0.0', type, message, ...extra, stack: trimStack(stack) }, 'errors');
  };
  w.addEventListener('error', (e) => {
    if (!(e instanceof ErrorEvent)) return; // resource load failures
    const x = e.error;
    err(x?.name || 'Error', e.message, x?.stack, { filename: e.filename, lineno: e.lineno, colno: e.colno });
  });
  w.addEventListener('unhandledrejection', ({ reason: r }) => {
    if (r instanceof Error) err(r.name, r.message, r.stack);
    else err('unhandledrejection', typeof r == 'string' ? r : JSON.stringify(r) || String(r), 0);
  });

  // ---- single-page routes ----

  const route = () => {
    const id = pageId(loc, cfg.pageIdFormat);
    if (id != page!.pageId) api.recordPageView(id);
  };
  const h = history;
  for (const m of ['pushState', 'replaceState'] as const) {
    const orig = h[m];
    h[m] = function (this: History, ...a: Parameters<History['pushState']>) {
      orig.apply(this, a);
      route();
    };
  }
  w.addEventListener('popstate', route);
  w.addEventListener('hashchange', route);

  // ---- performance ----

  const perf = (type: string, d: unknown) => record(P + type, d, 'performance');
  const nav = () =>
    setTimeout(() => {
      const e = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      if (e) perf('performance_navigation_event', navigationDetails(e));
    });
  doc.readyState == 'complete' ? nav() : w.addEventListener('load', nav);
  try {
    new PerformanceObserver((l) => {
      for (const e of l.getEntries() as PerformanceResourceTiming[])
        if (!isOwn(e.name, loc.href, endpoint) && caps.allow('resource')) perf('performance_resource_event', resourceDetails(e));
    }).observe({ type: 'resource', buffered: true });
  } catch {
    /* no PerformanceObserver */
  }
  observeVitals(perf);

  // ---- HTTP ----

  const begin = (method: string, url: string): Ctx | null => {
    const abs = resolve(url, loc.href);
    if (!abs || isOwn(abs.href, loc.href, endpoint)) return null;
    const ctx: Ctx = { m: method.toUpperCase(), url, abs, start: Date.now(), headers: [] };
    // Before the config has arrived the sampling decision is unknown: such requests carry no header.
    if (ready && isSampled && cfg.enableXRay && pageAllowed(cfg, loc.href) && traceAllowed(url, loc.href, cfg.traceHeaderAllowList)) {
      const tr = (ctx.trace = newTrace(ctx.start));
      if (cfg.traceHeader != 'w3c') ctx.headers.push(['X-Amzn-Trace-Id', xrayHeader(tr)]);
      if (cfg.traceHeader != 'xray') ctx.headers.push(['traceparent', traceparent(tr)]);
    }
    return ctx;
  };

  const end = (ctx: Ctx, status: number, statusText: string, len: string | null, error?: { type: string; message: string; stack?: string }) => {
    const r = {
      method: ctx.m,
      url: ctx.url,
      host: ctx.abs.hostname,
      start: ctx.start,
      end: Date.now(),
      status,
      statusText,
      contentLength: len ? +len : undefined,
      error,
      trace: ctx.trace,
      w3c: cfg.traceHeader == 'w3c',
    };
    if (ctx.trace) record(P + 'xray_trace_event', segment(r, cfg.xrayName));
    if (cfg.recordAllRequests || !status || status >= 400) record(P + 'http_event', httpEvent(r), 'http');
    if (ctx.trace && error && error.type == 'TypeError' && !sameOrigin(ctx.url, loc.href))
      record(P + 'sightline.cors_suspect', { origin: ctx.abs.origin, url: ctx.abs.href, header: ctx.headers.map((x) => x[0]).join() });
  };

  w.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : null;
    const ctx = begin(init?.method || req?.method || 'GET', req?.url || String(input));
    if (!ctx) return origFetch(input, init);
    if (ctx.headers.length) {
      const hd = new Headers(init?.headers || req?.headers);
      for (const [k, v] of ctx.headers) hd.set(k, v);
      init = { ...init, headers: hd };
    }
    return origFetch(input, init).then(
      (res) => {
        end(ctx, res.status, res.statusText, res.headers.get('content-length'));
        return res;
      },
      (e) => {
        end(ctx, 0, '', null, { type: e?.name || 'Error', message: String(e?.message), stack: trimStack(e?.stack) });
        throw e;
      },
    );
  };

  const X = w.XMLHttpRequest;
  if (X) {
    type Tagged = XMLHttpRequest & { _sl?: [string, string] };
    const proto = X.prototype;
    const open = proto.open;
    const send = proto.send;
    proto.open = function (this: Tagged, method: string, url: string | URL) {
      this._sl = [method, String(url)];
      // eslint-disable-next-line prefer-rest-params
      return open.apply(this, arguments as unknown as Parameters<typeof open>);
    } as typeof open;
    proto.send = function (this: Tagged, body?: Document | XMLHttpRequestBodyInit | null) {
      const ctx = this._sl && begin(this._sl[0], this._sl[1]);
      if (ctx) {
        for (const [k, v] of ctx.headers) this.setRequestHeader(k, v);
        const done = ({ type }: Event) =>
          type == 'load'
            ? end(ctx, this.status, this.statusText, this.getResponseHeader('content-length'))
            : // A network or CORS failure is an 'error' event with status 0: the XHR twin of fetch's TypeError.
              end(ctx, 0, '', null, { type: type == 'error' ? 'TypeError' : type, message: 'XMLHttpRequest ' + type });
        for (const ev of ['load', 'error', 'abort', 'timeout']) this.addEventListener(ev, done);
      }
      return send.call(this, body);
    };
  }

  // Page hide: registered after web-vitals so CLS/INP reported on hide are in the beacon.
  const hide = () => ready && t.beacon();
  doc.addEventListener('visibilitychange', () => doc.visibilityState == 'hidden' && hide());
  w.addEventListener('pagehide', hide);

  api.recordPageView(pageId(loc, cfg.pageIdFormat));
  loadConfig().then(start);
  return api;
}
