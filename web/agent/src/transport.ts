// Delivery of PutRumEvents batches: bounded queue, batching, gzip, retry with the same BatchId,
// and the page-hide beacon. A closure, not a class, so the minifier can shorten its internals.

import { uuid } from './ids';

export interface RumEvent {
  id: string;
  /** Epoch seconds, an integer. */
  timestamp: number;
  type: string;
  metadata: string;
  details: string;
}

export interface UserDetails {
  userId: string;
  sessionId: string;
}

export interface TransportOptions {
  url: string;
  appMonitorId: string;
  appVersion: string;
  /** Sends one request; resolves to the HTTP status, rejects on network/CORS failure. */
  send: (url: string, body: string | Uint8Array, headers: Record<string, string>) => Promise<number>;
  /** navigator.sendBeacon: true when the browser accepted the body. */
  beacon: (url: string, body: string) => boolean;
  wait: (ms: number) => Promise<void>;
  /** Resolves to the gzipped bytes, or null when compression is unavailable. */
  gzip?: (s: string) => Promise<Uint8Array | null>;
  sessionMetadata: () => Record<string, unknown>;
  batchLimit?: number;
  queueLimit?: number;
  retryDelays?: number[];
}

export interface Transport {
  /** Each event travels with the user/session it was recorded under, so a batch never mixes sessions. */
  queue: [RumEvent, UserDetails][];
  /** Events lost: queue overflow, batches dropped after their retries or refused by the server. */
  dropped: number;
  /** Set on 403/404: the server does not know this app monitor, sending more is pointless. */
  stopped: boolean;
  push(e: RumEvent, user: UserDetails): void;
  /** Sends everything queued, one batch at a time; a call while one runs joins it. */
  flush(): Promise<void>;
  /**
   * Page is going away: send the batch under retry (same BatchId, the server deduplicates) and
   * everything queued with sendBeacon, never gzipped.
   */
  beacon(): void;
}

export function makeEvent(type: string, details: unknown, metadata: unknown, nowMs: number): RumEvent {
  return {
    id: uuid(),
    timestamp: Math.floor(nowMs / 1000),
    type,
    metadata: JSON.stringify(metadata),
    details: JSON.stringify(details),
  };
}

export function createTransport(o: TransportOptions): Transport {
  const limit = o.batchLimit || 100;
  const delays = o.retryDelays || [2000, 4000];
  let busy = false;
  /** JSON of the batch being delivered, so a page hide can hand it to the beacon. */
  let pending: string | null = null;

  const body = (events: RumEvent[], user: UserDetails) =>
    JSON.stringify({
      BatchId: uuid(),
      AppMonitorDetails: { id: o.appMonitorId, version: o.appVersion },
      UserDetails: user,
      RumEvents: events,
      SessionMetadata: JSON.stringify(o.sessionMetadata()),
    });

  const count = (json: string) => JSON.parse(json).RumEvents.length as number;

  /** Next batch: up to batchLimit events of the same user/session. */
  const take = () => {
    const q = t.queue;
    const u = q[0][1];
    let n = 0;
    while (n < q.length && n < limit && q[n][1] == u) n++;
    return body(q.splice(0, n).map((x) => x[0]), u);
  };

  const deliver = async (json: string) => {
    pending = json;
    let data: string | Uint8Array = json;
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (json.length >= 2048 && o.gzip) {
      const z = await o.gzip(json).catch(() => null);
      // Worth it only when it saves at least 20% of the bytes.
      if (z && z.length <= 0.8 * new TextEncoder().encode(json).length) {
        data = z;
        headers['Content-Encoding'] = 'gzip';
      }
    }
    for (let i = 0; ; i++) {
      let status = 0;
      try {
        status = await o.send(o.url, data, headers);
      } catch {
        /* network or CORS failure: retryable */
      }
      if (pending != json) return; // handed to the beacon meanwhile
      if (status == 403 || status == 404) {
        t.stopped = true;
        t.dropped += count(json) + t.queue.length;
        t.queue = [];
      } else if (status && status != 429 && status < 500) {
        // 2xx done; another 4xx will not heal by resending.
        if (status >= 300) t.dropped += count(json);
      } else if (i < delays.length) {
        await o.wait(delays[i]);
        if (pending == json) continue;
        return;
      } else {
        t.dropped += count(json);
      }
      pending = null;
      return;
    }
  };

  const beaconJson = (json: string): void => {
    // Browsers refuse beacons over their quota (~64 KB): halve until accepted.
    if (o.beacon(o.url, json)) return;
    const b = JSON.parse(json);
    const ev: RumEvent[] = b.RumEvents;
    const h = ev.length >> 1;
    if (!h) {
      t.dropped++;
      return;
    }
    beaconJson(body(ev.slice(0, h), b.UserDetails));
    beaconJson(body(ev.slice(h), b.UserDetails));
  };

  const t: Transport = {
    queue: [],
    dropped: 0,
    stopped: false,
    push(e, user) {
      if (t.stopped) return;
      if (t.queue.push([e, user]) > (o.queueLimit || 1000)) {
        t.queue.shift();
        t.dropped++;
      }
    },
    async flush() {
      if (busy) return;
      busy = true;
      try {
        while (t.queue.length && !t.stopped) await deliver(take());
      } finally {
        busy = false;
      }
    },
    beacon() {
      if (t.stopped) return;
      const p = pending;
      pending = null;
      if (p) o.beacon(o.url, p);
      while (t.queue.length) beaconJson(take());
    },
  };
  return t;
}

export async function gzip(s: string): Promise<Uint8Array | null> {
  if (typeof CompressionStream == 'undefined') return null;
  const stream = new Blob([s]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
