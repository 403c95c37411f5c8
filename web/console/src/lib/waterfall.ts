// A trace as a tree of spans (segments and their subsegments) and its waterfall layout.
// Subsegments hang under the document that embeds them (X-Ray SDKs put misleading parent_id
// values on nested subsegments, so nesting wins); a segment hangs under the span whose id is
// its parent_id, wherever that span is, and is a root otherwise.

export interface XRaySegment {
  Id: string;
  Document: string;
}

export interface Span {
  id: string;
  name: string;
  kind: 'segment' | 'subsegment';
  start: number; // epoch seconds
  end: number; // epoch seconds; start when in progress and unknown
  inProgress: boolean;
  origin?: string;
  namespace?: string;
  inferred: boolean;
  fault: boolean;
  error: boolean;
  throttle: boolean;
  doc: Record<string, any>; // the raw document (without the subsegments' children)
  children: Span[];
  /** id of the segment document this span belongs to */
  segmentId: string;
}

function toSpan(d: Record<string, any>, kind: Span['kind'], segmentId: string): Span {
  const start = Number(d.start_time) || 0;
  const end = d.end_time != null ? Number(d.end_time) : start;
  const { subsegments, ...rest } = d;
  const s: Span = {
    id: String(d.id ?? ''),
    name: String(d.name ?? '(unnamed)'),
    kind,
    start,
    end: Math.max(start, end),
    inProgress: !!d.in_progress,
    origin: d.origin,
    namespace: d.namespace,
    inferred: !!d.inferred,
    fault: !!d.fault,
    error: !!d.error,
    throttle: !!d.throttle,
    doc: rest,
    children: [],
    segmentId,
  };
  if (Array.isArray(subsegments)) {
    for (const sub of subsegments) if (sub && typeof sub === 'object') s.children.push(toSpan(sub, 'subsegment', segmentId));
  }
  return s;
}

/** Builds the span forest of a BatchGetTraces trace; unparsable documents are skipped and counted. */
export function buildTree(segments: XRaySegment[]): { roots: Span[]; skipped: number } {
  const docs: Span[] = [];
  let skipped = 0;
  for (const seg of segments) {
    try {
      const d = JSON.parse(seg.Document);
      docs.push(toSpan(d, 'segment', String(d.id ?? seg.Id)));
    } catch {
      skipped++;
    }
  }
  const byId = new Map<string, Span>();
  const index = (s: Span) => {
    if (!byId.has(s.id)) byId.set(s.id, s);
    s.children.forEach(index);
  };
  docs.forEach(index);
  const roots: Span[] = [];
  for (const s of docs) {
    const parentId = s.doc.parent_id;
    const parent = parentId ? byId.get(parentId) : undefined;
    if (parent && parent !== s && !isWithin(parent, s)) parent.children.push(s);
    else roots.push(s);
  }
  const sortRec = (list: Span[]) => {
    list.sort((a, b) => a.start - b.start || a.end - b.end);
    list.forEach((x) => sortRec(x.children));
  };
  sortRec(roots);
  return { roots, skipped };
}

// Guards against cycles from malformed parent ids: is `node` an ancestor of `of`?
function isWithin(node: Span, of: Span): boolean {
  const stack = [...of.children];
  while (stack.length) {
    const x = stack.pop()!;
    if (x === node) return true;
    stack.push(...x.children);
  }
  return false;
}

export function walk(roots: Span[], f: (s: Span, depth: number) => void, depth = 0): void {
  for (const r of roots) {
    f(r, depth);
    walk(r.children, f, depth + 1);
  }
}

export function bounds(roots: Span[]): { start: number; end: number } {
  let start = Infinity;
  let end = -Infinity;
  walk(roots, (s) => {
    start = Math.min(start, s.start);
    end = Math.max(end, s.end);
  });
  if (!Number.isFinite(start)) return { start: 0, end: 0 };
  return { start, end };
}

export interface Row {
  span: Span;
  depth: number;
  /** bar position and width as percentages of the trace's duration */
  left: number;
  width: number;
  hasChildren: boolean;
  collapsed: boolean;
}

/** The visible rows of the waterfall: depth-first, children of collapsed spans hidden. */
export function layout(roots: Span[], collapsed: Set<string>): Row[] {
  const { start, end } = bounds(roots);
  const total = end - start;
  const rows: Row[] = [];
  const visit = (s: Span, depth: number) => {
    const left = total > 0 ? ((s.start - start) / total) * 100 : 0;
    const width = total > 0 ? ((s.end - s.start) / total) * 100 : 100;
    const isCollapsed = collapsed.has(s.id);
    rows.push({ span: s, depth, left, width, hasChildren: s.children.length > 0, collapsed: isCollapsed });
    if (!isCollapsed) for (const c of s.children) visit(c, depth + 1);
  };
  roots.forEach((r) => visit(r, 0));
  return rows;
}

/**
 * The critical path: the chain of spans that kept the trace from finishing sooner. From a
 * span's end, walk back: the child that finished last before the cursor is critical (its own
 * critical path recursively), then the cursor moves to that child's start. Returns span ids.
 */
export function criticalPath(roots: Span[]): Set<string> {
  const out = new Set<string>();
  const visit = (s: Span) => {
    out.add(s.id);
    let cursor = s.end;
    const kids = [...s.children].sort((a, b) => b.end - a.end);
    for (const c of kids) {
      if (c.end <= cursor + 1e-9 && c.end > s.start - 1e-9 && c.start < cursor) {
        visit(c);
        cursor = c.start;
      }
    }
  };
  // The root that finishes last carries the trace's end.
  const last = [...roots].sort((a, b) => b.end - a.end)[0];
  if (last) visit(last);
  return out;
}

/** Time ticks for the waterfall header: about `n` round offsets in seconds from the trace start. */
export function ticks(durationSec: number, n = 5): number[] {
  if (durationSec <= 0) return [0];
  const raw = durationSec / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let i = 0; i * step <= durationSec + 1e-12; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

/** The RUM session of a browser segment, when the aws-rum-web document names one. */
export function rumSession(s: Span): { appMonitor?: string; sessionId?: string } | null {
  if (s.origin !== 'AWS::RUM::AppMonitor') return null;
  const d = s.doc;
  const sessionId = d.metadata?.rum?.['session.id'] ?? d.metadata?.session_id ?? d.annotations?.session_id ?? d.aws?.rum?.session_id;
  const appMonitor = d.aws?.rum?.app_monitor_name ?? d.metadata?.rum?.app_monitor_name;
  return { appMonitor, sessionId };
}

/** Exceptions recorded in a span's cause, with their stacks. */
export function exceptions(s: Span): { type: string; message: string; stack: string[]; remote: boolean }[] {
  const ex = s.doc.cause?.exceptions;
  if (!Array.isArray(ex)) return [];
  return ex.map((e: any) => ({
    type: String(e.type ?? 'Exception'),
    message: String(e.message ?? ''),
    remote: !!e.remote,
    stack: Array.isArray(e.stack) ? e.stack.map((f: any) => `${f.label ?? '?'} (${f.path ?? '?'}:${f.line ?? '?'})`) : [],
  }));
}

export function status(s: Span): 'fault' | 'error' | 'throttle' | 'ok' {
  if (s.fault) return 'fault';
  if (s.throttle) return 'throttle';
  if (s.error) return 'error';
  return 'ok';
}
