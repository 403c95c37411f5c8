// Performance entries → aws-rum-web event details (times in ms from navigation start).

/** Scalar fields of a performance entry, under their W3C names. */
function scalars(e: PerformanceEntry): Record<string, unknown> {
  const j = e.toJSON() as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in j) if (typeof j[k] != 'object') out[k] = j[k];
  return out;
}

/** The entry's own timings plus the durations aws-rum-web derives from them. */
export function navigationDetails(e: PerformanceNavigationTiming): Record<string, unknown> {
  const d: Record<string, unknown> = scalars(e);
  delete d.name; // the URL, with its query string: not ours to send
  return Object.assign(d, {
    version: '1.0.0',
    initiatorType: 'navigation',
    navigationType: e.type,
    redirectTime: e.redirectEnd - e.redirectStart,
    dns: e.domainLookupEnd - e.domainLookupStart,
    connect: e.connectEnd - e.connectStart,
    tlsTime: e.secureConnectionStart > 0 ? e.connectEnd - e.secureConnectionStart : 0,
    timeToFirstByte: e.responseStart - e.requestStart,
    responseTime: e.responseEnd - e.responseStart,
    domContentLoaded: e.domContentLoadedEventEnd - e.domContentLoadedEventStart,
    domProcessingTime: e.domComplete - e.responseEnd,
    loadEventTime: e.loadEventEnd - e.loadEventStart,
    headerSize: e.transferSize ? e.transferSize - e.encodedBodySize : 0,
    compressionRatio: e.encodedBodySize > 0 ? e.decodedBodySize / e.encodedBodySize : 0,
    navigationTimingLevel: 2,
  });
}

const FILE_TYPES = ['script', 'stylesheet', 'image', 'font', 'document'];

/** aws-rum-web's fileType: from the URL's extension, else from the initiator. */
export function fileType(url: string, initiatorType: string): string {
  const m = /\.(m?js)$|\.(css)$|\.(png|jpe?g|gif|svg|webp|avif|ico)$|\.(woff2?|ttf|otf|eot)$|\.(html?)$/.exec(url.replace(/[?#].*/, '').toLowerCase());
  return m ? FILE_TYPES[m.slice(1).findIndex(Boolean)] : ({ script: 'script', css: 'stylesheet', img: 'image', iframe: 'document' } as Record<string, string>)[initiatorType] || 'other';
}

export function resourceDetails(e: PerformanceResourceTiming): Record<string, unknown> {
  return {
    version: '1.0.0',
    initiatorType: e.initiatorType,
    startTime: e.startTime,
    duration: e.duration,
    fileType: fileType(e.name, e.initiatorType),
    transferSize: e.transferSize,
    targetUrl: e.name,
  };
}

/** Per-page limits on event kinds that can flood (resources, error loops). */
export function caps(limits: Record<string, number>): { allow(kind: string): boolean; reset(): void } {
  let n: Record<string, number> = {};
  return {
    allow: (k) => !(k in limits) || (n[k] = (n[k] || 0) + 1) <= limits[k],
    reset: () => (n = {}),
  } as { allow(kind: string): boolean; reset(): void };
}

export function trimStack(s: unknown): string | undefined {
  return typeof s == 'string' ? s.slice(0, 1000) : undefined;
}
