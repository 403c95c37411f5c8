// Which requests may carry a trace header. A header on a cross-origin request triggers a CORS
// preflight the API may not answer, breaking the app: so only same-origin and explicitly allowed
// origins get one.

export function resolve(url: string, base: string): URL | null {
  try {
    return new URL(url, base);
  } catch {
    return null;
  }
}

function origin(s: string): string | null {
  const u = resolve(s, 'x:/');
  return u && u.origin != 'null' ? u.origin : null;
}

/**
 * Strings in allowList are compared as origins (a path in them is ignored), RegExps are tested
 * against the absolute URL.
 */
export function traceAllowed(url: string, pageHref: string, allowList: (string | RegExp)[]): boolean {
  const u = resolve(url, pageHref);
  if (!u || !/^https?:$/.test(u.protocol)) return false;
  if (u.origin == new URL(pageHref).origin) return true;
  return allowList.some((a) => (typeof a == 'string' ? origin(a) == u.origin : a.test(u.href)));
}

export function sameOrigin(url: string, pageHref: string): boolean {
  const u = resolve(url, pageHref);
  return !!u && u.origin == new URL(pageHref).origin;
}

/** The agent's own requests (ingest, remote config) are never instrumented. */
export function isOwn(url: string, pageHref: string, endpoint: string): boolean {
  const u = resolve(url, pageHref);
  return !!u && !!endpoint && (u.href + '/').startsWith(endpoint + '/appmonitors/');
}
