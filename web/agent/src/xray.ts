// X-Ray segment for one traced browser request, and the http_event that goes with it. Shapes match
// what aws-rum-web sends (see PROTOCOLS §1), so one server decoder reads both.

import { TraceIds, xrayRoot } from './ids';

export interface RequestRecord {
  method: string;
  /** The URL as the application passed it. */
  url: string;
  host: string;
  /** Epoch ms. */
  start: number;
  end: number;
  /** 0 when the request failed without a response (network, CORS, abort). */
  status: number;
  statusText?: string;
  contentLength?: number;
  error?: { type: string; message: string; stack?: string };
  trace?: TraceIds;
  /** True when only traceparent was sent: trace ids are then the bare 32 hex digits, as aws-rum-web does. */
  w3c?: boolean;
}

function flags(status: number): Record<string, true> {
  if (!status) return { fault: true };
  if (status == 429) return { throttle: true };
  if (status >= 500) return { fault: true };
  return status >= 400 ? { error: true } : {};
}

export function traceId(r: RequestRecord): string {
  return r.w3c ? r.trace!.trace : xrayRoot(r.trace!);
}

export function segment(r: RequestRecord, name: string): Record<string, unknown> {
  const t = r.trace!;
  const start = r.start / 1000;
  const end = r.end / 1000;
  const f = flags(r.status);
  const http: Record<string, unknown> = { request: { method: r.method, url: r.url, traced: true } };
  if (r.status) {
    const res: Record<string, number> = { status: r.status };
    if (r.contentLength! >= 0) res.content_length = r.contentLength!;
    http.response = res;
  }
  const sub: Record<string, unknown> = {
    id: t.parent,
    name: r.host,
    start_time: start,
    end_time: end,
    in_progress: false,
    namespace: /(^|\.)amazonaws\.com$/.test(r.host) ? 'aws' : 'remote',
    http,
    ...f,
  };
  if (r.error) sub.cause = { exceptions: [{ type: r.error.type, message: r.error.message }] };
  return {
    version: '1.0.0',
    name,
    origin: 'AWS::RUM::AppMonitor',
    id: t.segment,
    start_time: start,
    trace_id: traceId(r),
    end_time: end,
    subsegments: [sub],
    in_progress: false,
    ...f,
  };
}

export function httpEvent(r: RequestRecord): Record<string, unknown> {
  const d: Record<string, unknown> = {
    version: '1.0.0',
    request: { url: r.url, method: r.method },
    duration: r.end - r.start,
  };
  if (r.trace) {
    d.trace_id = traceId(r);
    d.segment_id = r.trace.parent;
  }
  if (r.status) d.response = { status: r.status, statusText: r.statusText || '' };
  if (r.error) d.error = { version: '1.0.0', ...r.error };
  return d;
}
