// Identifier generation: event/batch/session UUIDs and X-Ray / W3C trace ids.

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** Lowercase hex string of n random nibbles. */
export function hex(n: number): string {
  const b = new Uint8Array((n + 1) >> 1);
  crypto.getRandomValues(b);
  let s = '';
  for (const x of b) s += (x | 256).toString(16).slice(1);
  return s.slice(0, n);
}

export function uuid(): string {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID exists only in secure contexts. RFC 4122 v4 layout: version 4, variant 10xx (8).
  const h = hex(30);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(12, 15)}-8${h.slice(15, 18)}-${h.slice(18)}`;
}

/** A trace: 32 hex digits whose first 8 are the epoch second, as X-Ray requires, plus the client subsegment id. */
export interface TraceIds {
  /** 32 hex digits: the W3C trace id; X-Ray's Root is 1-<first 8>-<last 24>. */
  trace: string;
  /** Id of the browser's segment. */
  segment: string;
  /** Id of the client subsegment = the header's Parent / parent-id. */
  parent: string;
}

export function newTrace(nowMs: number): TraceIds {
  const epoch = Math.floor(nowMs / 1000).toString(16).padStart(8, '0').slice(-8);
  return { trace: epoch + hex(24), segment: hex(16), parent: hex(16) };
}

export function xrayRoot(t: TraceIds): string {
  return `1-${t.trace.slice(0, 8)}-${t.trace.slice(8)}`;
}

export function xrayHeader(t: TraceIds): string {
  return `Root=${xrayRoot(t)};Parent=${t.parent};Sampled=1`;
}

export function traceparent(t: TraceIds): string {
  return `00-${t.trace}-${t.parent}-01`;
}
