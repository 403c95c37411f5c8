// The X-Ray service graph as cytoscape elements: health colour, size by traffic, edge labels.

export interface Stats {
  OkCount?: number;
  ErrorStatistics?: { ThrottleCount?: number; OtherCount?: number; TotalCount?: number };
  FaultStatistics?: { OtherCount?: number; TotalCount?: number };
  TotalCount?: number;
  TotalResponseTime?: number;
}

export interface Histogram {
  Value: number;
  Count: number;
}

export interface Edge {
  ReferenceId: number;
  SummaryStatistics?: Stats;
  ResponseTimeHistogram?: Histogram[];
  EdgeType?: string;
}

export interface Service {
  ReferenceId: number;
  Name?: string;
  Names?: string[];
  Type?: string;
  Root?: boolean;
  State?: string;
  Edges?: Edge[];
  SummaryStatistics?: Stats;
  ResponseTimeHistogram?: Histogram[];
  DurationHistogram?: Histogram[];
}

export type Health = 'ok' | 'error' | 'throttle' | 'fault' | 'none';

/** Worst status with any calls: fault > error > throttle > ok (X-Ray counts throttles within errors). */
export function health(s: Stats | undefined): Health {
  if (!s || !s.TotalCount) return 'none';
  if ((s.FaultStatistics?.TotalCount ?? 0) > 0) return 'fault';
  const throttle = s.ErrorStatistics?.ThrottleCount ?? 0;
  const errors = s.ErrorStatistics?.TotalCount ?? 0;
  if (errors - throttle > 0) return 'error';
  if (throttle > 0) return 'throttle';
  return 'ok';
}

/** Shares of ok / error (without throttles) / throttle / fault in the calls. */
export function shares(s: Stats | undefined): { ok: number; error: number; throttle: number; fault: number } {
  const total = s?.TotalCount ?? 0;
  if (!total) return { ok: 0, error: 0, throttle: 0, fault: 0 };
  const throttle = s?.ErrorStatistics?.ThrottleCount ?? 0;
  const error = (s?.ErrorStatistics?.TotalCount ?? 0) - throttle;
  const fault = s?.FaultStatistics?.TotalCount ?? 0;
  return { ok: (s?.OkCount ?? total - error - throttle - fault) / total, error: error / total, throttle: throttle / total, fault: fault / total };
}

/** Mean response time in seconds, or null without calls. */
export function meanResponse(s: Stats | undefined): number | null {
  if (!s?.TotalCount) return null;
  return (s.TotalResponseTime ?? 0) / s.TotalCount;
}

/** Node diameter in px: grows with the log of traffic between 30 and 80. */
export function nodeSize(total: number, maxTotal: number): number {
  if (maxTotal <= 0 || total <= 0) return 30;
  return Math.round(30 + 50 * (Math.log1p(total) / Math.log1p(maxTotal)));
}

/** A histogram's percentile (Value in seconds), or null when empty. */
export function histogramPercentile(h: Histogram[] | undefined, p: number): number | null {
  if (!h?.length) return null;
  const sorted = [...h].sort((a, b) => a.Value - b.Value);
  const total = sorted.reduce((n, x) => n + x.Count, 0);
  if (!total) return null;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (const x of sorted) {
    seen += x.Count;
    if (seen >= rank) return x.Value;
  }
  return sorted[sorted.length - 1].Value;
}

export function isClient(s: Service): boolean {
  return s.Type === 'client';
}

export function label(s: Service): string {
  if (isClient(s)) return s.Name || 'Clients';
  return s.Name || s.Names?.[0] || `#${s.ReferenceId}`;
}

export interface Elements {
  nodes: { data: { id: string; label: string; type: string; health: Health; size: number; ref: number; client: boolean } }[];
  edges: { data: { id: string; source: string; target: string; label: string; health: Health } }[];
}

/** Cytoscape elements; edges whose target is not in the graph are dropped. */
export function toElements(services: Service[], fmtSec: (s: number | null) => string): Elements {
  const max = Math.max(0, ...services.map((s) => s.SummaryStatistics?.TotalCount ?? edgeTotal(s)));
  const ids = new Set(services.map((s) => String(s.ReferenceId)));
  const nodes = services.map((s) => ({
    data: {
      id: String(s.ReferenceId),
      label: label(s),
      type: s.Type ?? '',
      health: isClient(s) ? ('none' as Health) : health(s.SummaryStatistics),
      size: nodeSize(s.SummaryStatistics?.TotalCount ?? edgeTotal(s), max),
      ref: s.ReferenceId,
      client: isClient(s),
    },
  }));
  const edges: Elements['edges'] = [];
  for (const s of services) {
    for (const e of s.Edges ?? []) {
      if (!ids.has(String(e.ReferenceId))) continue;
      const st = e.SummaryStatistics;
      const n = st?.TotalCount ?? 0;
      edges.push({
        data: {
          id: `${s.ReferenceId}->${e.ReferenceId}`,
          source: String(s.ReferenceId),
          target: String(e.ReferenceId),
          label: n ? `${fmtSec(meanResponse(st))} · ${n} calls` : '',
          health: health(st),
        },
      });
    }
  }
  return { nodes, edges };
}

// A client node has no statistics of its own: its traffic is what leaves it.
function edgeTotal(s: Service): number {
  return (s.Edges ?? []).reduce((n, e) => n + (e.SummaryStatistics?.TotalCount ?? 0), 0);
}
