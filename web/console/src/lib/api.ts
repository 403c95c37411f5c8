// The console's only way to the server: the public JSON APIs on the same origin.

export class ApiError extends Error {
  constructor(
    message: string,
    public status: number,
    public type: string,
  ) {
    super(message);
  }
}

export async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let resp: Response;
  try {
    resp = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(`Cannot reach the Sightline server (${(e as Error).message}). Is \`sightline serve\` running?`, 0, 'NetworkError');
  }
  const text = await resp.text();
  let json: any = undefined;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    /* not JSON: reported below */
  }
  if (!resp.ok) {
    const type = json?.__type ?? resp.headers.get('X-Amzn-ErrorType') ?? `HTTP ${resp.status}`;
    const msg = json?.message ?? json?.Message ?? (text.trim() || resp.statusText);
    throw new ApiError(String(msg), resp.status, String(type).split(':')[0]);
  }
  if (json === undefined) throw new ApiError(`${method} ${path}: the answer is not JSON`, resp.status, 'DecodeError');
  return json as T;
}

export interface MonitorConfig {
  SessionSampleRate?: number;
  AllowCookies?: boolean;
  EnableXRay?: boolean;
  Telemetries?: string[];
  IncludedPages?: string[];
  ExcludedPages?: string[];
  TraceHeaderAllowList?: string[];
}

export interface Monitor {
  Id: string;
  Name: string;
  Domain?: string;
  DomainList?: string[];
  AppMonitorConfiguration?: MonitorConfig;
  CustomEvents?: { Status?: string };
  Created?: string;
  LastModified?: string;
}

export interface MonitorSummary {
  Id: string;
  Name: string;
  Created?: string;
  LastModified?: string;
}

export interface MonitorInput {
  Name?: string;
  Domain?: string;
  DomainList?: string[];
  AppMonitorConfiguration: MonitorConfig;
  CustomEvents: { Status: 'ENABLED' | 'DISABLED' };
}

export async function listMonitors(signal?: AbortSignal): Promise<MonitorSummary[]> {
  const out: MonitorSummary[] = [];
  let token = '';
  for (let i = 0; i < 50; i++) {
    const r = await call<{ AppMonitorSummaries: MonitorSummary[]; NextToken?: string }>(
      'POST',
      `/appmonitors?maxResults=100${token ? '&nextToken=' + encodeURIComponent(token) : ''}`,
      {},
      signal,
    );
    out.push(...(r.AppMonitorSummaries ?? []));
    if (!r.NextToken) break;
    token = r.NextToken;
  }
  return out;
}

export const getMonitor = (name: string, signal?: AbortSignal) =>
  call<{ AppMonitor: Monitor }>('GET', `/appmonitor/${encodeURIComponent(name)}`, undefined, signal).then((r) => r.AppMonitor);
export const createMonitor = (m: MonitorInput) => call<{ Id: string }>('POST', '/appmonitor', m);
export const updateMonitor = (name: string, m: MonitorInput) => call<{}>('PATCH', `/appmonitor/${encodeURIComponent(name)}`, m);
export const deleteMonitor = (name: string) => call<{}>('DELETE', `/appmonitor/${encodeURIComponent(name)}`);

/** One RUM analytics query: POST /rum/{Name}/{query}. */
export function rum<T>(name: string, query: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
  return call<T>('POST', `/rum/${encodeURIComponent(name)}/${query}`, body, signal);
}

export interface TraceSummary {
  Id: string;
  Duration?: number;
  ResponseTime?: number;
  HasFault?: boolean;
  HasError?: boolean;
  HasThrottle?: boolean;
  IsPartial?: boolean;
  Http?: { HttpURL?: string; HttpStatus?: number; HttpMethod?: string; UserAgent?: string; ClientIp?: string };
  Annotations?: Record<string, { AnnotationValue: { StringValue?: string; NumberValue?: number; BooleanValue?: boolean } }[]>;
  Users?: { UserName?: string }[];
  EntryPoint?: { Name?: string; Type?: string };
  StartTime?: number;
  ServiceIds?: { Name?: string; Type?: string }[];
}

export function traceSummaries(
  body: { StartTime: number; EndTime: number; FilterExpression?: string; NextToken?: string },
  signal?: AbortSignal,
) {
  return call<{ TraceSummaries: TraceSummary[]; NextToken?: string; TracesProcessedCount?: number }>('POST', '/TraceSummaries', body, signal);
}

export function batchGetTraces(ids: string[], signal?: AbortSignal) {
  return call<{ Traces: { Id: string; Duration?: number; Segments: { Id: string; Document: string }[] }[]; UnprocessedTraceIds?: string[] }>(
    'POST',
    '/Traces',
    { TraceIds: ids },
    signal,
  );
}

export function serviceGraph(body: { StartTime: number; EndTime: number }, signal?: AbortSignal) {
  return call<{ Services: import('./servicegraph').Service[] }>('POST', '/ServiceGraph', body, signal);
}

/**
 * The RUM session that made a trace: the app monitor whose stored events carry the trace id
 * (browser segments come from aws-rum-web's xray_trace_event and http_event).
 */
export async function findRumSession(traceId: string, aroundMs: number, signal?: AbortSignal): Promise<{ monitor: string; sessionId: string } | null> {
  const monitors = await listMonitors(signal);
  for (const m of monitors) {
    const r = await call<{ Events: string[] }>(
      'POST',
      `/appmonitor/${encodeURIComponent(m.Name)}/data`,
      { TimeRange: { After: Math.max(0, aroundMs - 86_400_000), Before: aroundMs + 86_400_000 }, MaxResults: 1, Filters: [{ Name: 'TraceId', Values: [traceId] }] },
      signal,
    ).catch(() => ({ Events: [] as string[] }));
    for (const e of r.Events ?? []) {
      try {
        const ev = JSON.parse(e);
        const sid = ev?.user_details?.sessionId;
        if (sid) return { monitor: m.Name, sessionId: sid };
      } catch {
        /* skip */
      }
    }
  }
  return null;
}

export interface ConsoleConfig {
  ingestURL: string;
  agentURL?: string;
  agentIntegrity?: string;
  version?: string;
}

/** The server's settings for the console, embedded in index.html by internal/ui. */
export function consoleConfig(doc: Document): ConsoleConfig {
  let cfg: Partial<ConsoleConfig> = {};
  try {
    cfg = JSON.parse(doc.getElementById('sightline-config')?.textContent || '{}');
  } catch {
    /* defaults below */
  }
  return { ...cfg, ingestURL: cfg.ingestURL || doc.location.origin };
}
