// Agent configuration: defaults, the snippet's values, and the server's remote config merged over them.

export type Telemetry = 'errors' | 'performance' | 'http';
export type PageIdFormat = 'PATH' | 'HASH' | 'PATH_AND_HASH';
export type TraceHeader = 'xray' | 'w3c' | 'both';

export interface Config {
  appMonitorId: string;
  endpoint: string;
  appVersion: string;
  sessionSampleRate: number;
  telemetries: Telemetry[];
  includedPages: (string | RegExp)[];
  excludedPages: (string | RegExp)[];
  enableXRay: boolean;
  traceHeader: TraceHeader;
  traceHeaderAllowList: (string | RegExp)[];
  xrayName: string;
  allowCookies: boolean;
  pageIdFormat: PageIdFormat;
  recordAllRequests: boolean;
  sessionTimeoutMs: number;
  flushIntervalMs: number;
  resourceLimit: number;
  sessionAttributes: Record<string, unknown>;
}

export const DEFAULTS: Config = {
  appMonitorId: '',
  endpoint: '',
  appVersion: '0.0.0',
  sessionSampleRate: 1,
  telemetries: ['errors', 'performance', 'http'],
  includedPages: [],
  excludedPages: [],
  enableXRay: false,
  traceHeader: 'xray',
  traceHeaderAllowList: [],
  xrayName: 'rum.aws.amazon.com',
  allowCookies: false,
  pageIdFormat: 'PATH',
  recordAllRequests: true,
  sessionTimeoutMs: 30 * 60 * 1000,
  flushIntervalMs: 5000,
  resourceLimit: 50,
  sessionAttributes: {},
};


/** Merge layers left to right; undefined/null values keep the earlier layer's value. */
export function mergeConfig(base: Config, ...layers: (Partial<Config> | null | undefined)[]): Config {
  const out = { ...base } as Record<string, unknown>;
  for (const l of layers) {
    if (!l || typeof l != 'object') continue;
    for (const k in l) {
      const v = (l as Record<string, unknown>)[k];
      if (v != null) out[k] = v;
    }
  }
  const c = out as unknown as Config;
  const r = +c.sessionSampleRate;
  c.sessionSampleRate = r >= 0 && r <= 1 ? r : 1;
  c.endpoint = String(c.endpoint).replace(/\/+$/, '');
  return c;
}

/**
 * Keeps the known fields with the types they must have. Where the agent sends, and as which app
 * monitor, stays the page's decision.
 */
export function remoteFields(json: unknown): Partial<Config> {
  const out: Record<string, unknown> = {};
  if (json && typeof json == 'object') {
    for (const [k, v] of Object.entries(json)) {
      const d = (DEFAULTS as unknown as Record<string, unknown>)[k];
      if (!/^(endpoint|appMonitorId|appVersion)$/.test(k) && d != null && v != null && Array.isArray(d) == Array.isArray(v) && typeof v == typeof d) out[k] = v;
    }
  }
  return out as Partial<Config>;
}

export function pageId(url: URL | Location, format: PageIdFormat): string {
  if (format == 'HASH') return url.hash;
  return format == 'PATH_AND_HASH' ? url.pathname + url.hash : url.pathname;
}

function matches(list: (string | RegExp)[], href: string): boolean {
  return list.some((p) => {
    try {
      return (typeof p == 'string' ? new RegExp(p) : p).test(href);
    } catch {
      return false;
    }
  });
}

/** includedPages (empty = all) and excludedPages are regular expressions tested against the full URL. */
export function pageAllowed(c: Config, href: string): boolean {
  return (!c.includedPages.length || matches(c.includedPages, href)) && !matches(c.excludedPages, href);
}

export function remoteConfigUrl(c: Config): string {
  return `${c.endpoint}/appmonitors/${c.appMonitorId}/config`;
}

export function ingestUrl(c: Config): string {
  return `${c.endpoint}/appmonitors/${c.appMonitorId}`;
}
