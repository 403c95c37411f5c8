import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { getMonitor, rum } from '../lib/api';
import { fmtAgo, fmtCount, fmtMs, fmtPct, fmtTime, fmtVital } from '../lib/format';
import { zoomTo, writeRange } from '../lib/timerange';
import { href, RUM_FILTERS, RUM_TABS, rumFilters, RumTab, withParams } from '../lib/urlstate';
import { TimeChart } from '../ui/chart';
import { Async, Card, Column, Empty, Loading, RatingBar, Stat, Table } from '../ui/components';
import { useClock, useQuery } from '../ui/data';
import { navigate, setParams, useLoc } from '../ui/router';
import { PageTitle } from '../ui/shell';
import { Snippets } from './monitors';

// ---- API shapes (internal/api/rumquery) ----
interface Ratings {
  Good: number;
  NeedsImprovement: number;
  Poor: number;
}
interface Point {
  Time?: number;
  Page?: string;
  Count: number;
  P50: number;
  P75: number;
  P90: number;
  P99: number;
  Ratings?: Ratings;
  Apdex?: { Score: number; Satisfied: number; Tolerating: number; Frustrated: number };
}
interface Series {
  BucketSeconds?: number;
  Points: Point[];
}
interface VitalSeries extends Series {
  Vital: string;
  Unit: string;
  GoodThreshold: number;
  PoorThreshold: number;
}
interface ErrorGroup {
  Type: string;
  Message: string;
  Frame: string;
  Count: number;
  Sessions: number;
  FirstMicros: number;
  LastMicros: number;
  Browsers: string[] | null;
  AppVersions: string[] | null;
  SampleEventIDs: string[] | null;
  SampleSessions: string[] | null;
}
interface HTTPGroup {
  Method: string;
  URLPattern: string;
  Count: number;
  Status4xx: number;
  Status5xx: number;
  NetworkErrors: number;
  LatencyCount: number;
  Latency: { P50: number; P75: number; P90: number; P99: number };
  TraceIDs: string[] | null;
  Errors: number;
  ErrorRate: number;
}
interface SessionSummary {
  SessionID: string;
  UserID: string;
  StartMicros: number;
  EndMicros: number;
  Events: number;
  PageViews: number;
  Errors: number;
  Browser: string;
  OS: string;
  DeviceType: string;
  Country: string;
  AppVersion: string;
  EntryPage: string;
  ExitPage: string;
}
interface TimelineEntry {
  Time: number;
  Kind: string;
  EventId: string;
  Page?: string;
  Value?: number;
  DurationMs?: number;
  Method?: string;
  Url?: string;
  Status?: number;
  ErrorType?: string;
  ErrorMessage?: string;
  TraceId?: string;
}

export const VITALS = ['LCP', 'INP', 'CLS', 'FCP', 'TTFB', 'FID'];
const TAB_LABEL: Record<RumTab, string> = {
  overview: 'Overview',
  performance: 'Performance',
  vitals: 'Web Vitals',
  errors: 'Errors',
  http: 'HTTP',
  sessions: 'Sessions',
  audience: 'Audience',
  journeys: 'Journeys',
};

/** The body every RUM query shares: the time range and the URL's filters. */
function useBase(): { body: Record<string, unknown>; key: string } {
  const loc = useLoc();
  const { range } = useClock();
  const body: Record<string, unknown> = { From: Math.floor(range.from), To: Math.ceil(range.to) };
  const f = rumFilters(loc.params);
  if (f) body.Filters = f;
  return { body, key: JSON.stringify(body) };
}

function useRum<T>(monitor: string, query: string, extra: Record<string, unknown> = {}) {
  const { body, key } = useBase();
  const { tick } = useClock();
  const full = { ...body, ...extra };
  return useQuery<T>(`${monitor}/${query}/${key}/${JSON.stringify(extra)}`, (s) => rum<T>(monitor, query, full, s), tick);
}

function FilterBar() {
  const loc = useLoc();
  const active = RUM_FILTERS.flatMap((f) => loc.params.getAll(f.param).map((v) => ({ f, v })));
  const [page, setPage] = useState(loc.params.get('page') ?? '');
  return (
    <div class="filterbar">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setParams(withParams(loc.params, { page: page.trim() }));
        }}
      >
        <input aria-label="Filter by page" placeholder="Page, e.g. /cart" value={page} onInput={(e) => setPage(e.currentTarget.value)} />
      </form>
      {active.map(({ f, v }) => (
        <button
          class="chip"
          aria-label={`Remove filter ${f.label} ${v}`}
          onClick={() => {
            const p = new URLSearchParams(loc.params);
            const rest = p.getAll(f.param).filter((x) => x !== v);
            p.delete(f.param);
            rest.forEach((x) => p.append(f.param, x));
            if (f.param === 'page') setPage('');
            setParams(p);
          }}
        >
          {f.label}: {v} ✕
        </button>
      ))}
    </div>
  );
}

/** A value that adds itself as a filter when clicked. */
function FilterLink({ param, value, children }: { param: string; value: string; children?: ComponentChildren }) {
  const loc = useLoc();
  if (!value) return <span class="muted">(none)</span>;
  return (
    <a href={loc.path + '?' + withParams(loc.params, { [param]: value }).toString()} title={`Only ${value}`}>
      {children ?? value}
    </a>
  );
}

export function RumPage({ monitor, tab, sub }: { monitor: string; tab: RumTab; sub?: string }) {
  const loc = useLoc();
  return (
    <>
      <PageTitle title={`${monitor} · ${TAB_LABEL[tab]}`}>
        <a class="btn" href={href({ name: 'monitor', monitor }, loc.params)}>
          Settings & snippet
        </a>
      </PageTitle>
      <nav class="tabs" aria-label="RUM views">
        {RUM_TABS.map((t) => (
          <a href={href({ name: 'rum', monitor, tab: t }, loc.params, filterParams(loc.params))} class={t === tab ? 'active' : ''} aria-current={t === tab ? 'page' : undefined}>
            {TAB_LABEL[t]}
          </a>
        ))}
      </nav>
      <FilterBar />
      {tab === 'overview' && <Overview monitor={monitor} />}
      {tab === 'performance' && <Performance monitor={monitor} />}
      {tab === 'vitals' && <Vitals monitor={monitor} />}
      {tab === 'errors' && <Errors monitor={monitor} />}
      {tab === 'http' && <Http monitor={monitor} />}
      {tab === 'sessions' && (sub ? <SessionView monitor={monitor} id={sub} /> : <Sessions monitor={monitor} />)}
      {tab === 'audience' && <Audience monitor={monitor} />}
      {tab === 'journeys' && <Journeys monitor={monitor} />}
    </>
  );
}

function filterParams(p: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of RUM_FILTERS) {
    const v = p.get(f.param);
    if (v) out[f.param] = v;
  }
  return out;
}

function useZoom() {
  const loc = useLoc();
  return (a: number, b: number) => {
    const p = new URLSearchParams(loc.params);
    writeRange(p, zoomTo(a, b));
    setParams(p, { replace: false });
  };
}

function NoData({ monitor }: { monitor: string }) {
  const q = useQuery('monitor:' + monitor, (s) => getMonitor(monitor, s));
  return (
    <Empty title="No data in this time range yet">
      <p>
        Nothing was recorded for <strong>{monitor}</strong> between these times. If the site is new, paste this snippet into its pages and load one:
      </p>
      {q.data ? <Snippets m={q.data} /> : q.error ? <p class="muted">{q.error.message}</p> : <Loading />}
      <p class="muted">
        Or widen the time range, or run <code>sightline demo</code> to generate sample traffic.
      </p>
    </Empty>
  );
}

interface VitalFigure extends Point {
  Vital: string;
  Unit: string;
  GoodThreshold: number;
  PoorThreshold: number;
}
/** POST /rum/{Name}/overview: the whole page from one store pass. */
interface OverviewData {
  BucketSeconds: number;
  PageLoads: { Time: number; PageViews: number; Loads: number }[];
  LoadTime: Point[];
  LoadTimeAll: Point;
  Vitals: VitalFigure[];
  PageViews: number;
  Loads: number;
  Sessions: number;
  Errors: number;
  ErrorGroups: number;
  TopErrors: ErrorGroup[];
  HTTPCalls: number;
  HTTPErrors: number;
  HTTPErrorRate: number;
}

function Overview({ monitor }: { monitor: string }) {
  const q = useRum<OverviewData>(monitor, 'overview');
  const zoom = useZoom();
  const loc = useLoc();
  return (
    <Async q={q} what="Loading the overview" empty={(d) => (d.PageLoads.every((p) => !p.PageViews && !p.Loads) ? <NoData monitor={monitor} /> : null)}>
      {(d) => {
        const all = d.LoadTimeAll.Count ? d.LoadTimeAll : null;
        const apdex = all?.Apdex?.Score;
        return (
          <>
            <div class="stats">
              <Stat label="Page views" value={fmtCount(d.PageViews)} sub={`${fmtCount(d.Loads)} full page loads`} />
              <Stat label="Sessions" value={fmtCount(d.Sessions)} />
              <Stat label="Load time p75" value={all ? fmtMs(all.P75) : '–'} sub={all ? `p50 ${fmtMs(all.P50)} · p90 ${fmtMs(all.P90)}` : undefined} />
              <Stat
                label="Apdex"
                value={apdex != null ? apdex.toFixed(2) : '–'}
                sub="satisfied ≤ 2 s, tolerating ≤ 8 s"
                tone={apdex == null ? '' : apdex >= 0.85 ? 'good' : apdex >= 0.7 ? 'ni' : 'poor'}
              />
              <Stat label="JS errors" value={fmtCount(d.Errors)} sub={`${fmtCount(d.ErrorGroups)} groups`} tone={d.Errors ? 'poor' : ''} />
              <Stat
                label="HTTP errors"
                value={d.HTTPCalls ? fmtPct(d.HTTPErrorRate) : '–'}
                sub={`${fmtCount(d.HTTPErrors)} of ${fmtCount(d.HTTPCalls)} calls`}
                tone={d.HTTPErrorRate > 0.05 ? 'poor' : ''}
              />
            </div>
            <Card title="Page loads">
              <TimeChart
                label="Page views and page loads over time"
                x={d.PageLoads.map((p) => p.Time / 1000)}
                ys={[d.PageLoads.map((p) => p.PageViews), d.PageLoads.map((p) => p.Loads)]}
                series={[
                  { label: 'Page views', color: '#3b82f6', bars: true },
                  { label: 'Page loads', color: '#10b981' },
                ]}
                onZoom={zoom}
              />
            </Card>
            <Card title="Load time percentiles">
              <PercentileChart s={{ BucketSeconds: d.BucketSeconds, Points: d.LoadTime }} fmt={fmtMs} label="Load time" />
            </Card>
            <Card title="Web Vitals (p75)">
              <div class="vitals-grid">
                {d.Vitals.map((v) => (
                  <VitalCard monitor={monitor} v={v} />
                ))}
              </div>
            </Card>
            {d.TopErrors.length > 0 && (
              <Card title="Top errors">
                <table class="table" aria-label="Top errors">
                  <thead>
                    <tr>
                      <th>Error</th>
                      <th class="num">Count</th>
                      <th class="num">Sessions</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.TopErrors.map((g) => (
                      <tr>
                        <td>
                          <a href={href({ name: 'rum', monitor, tab: 'errors' }, loc.params)}>
                            <strong>{g.Type || 'Error'}</strong> {g.Message}
                          </a>
                        </td>
                        <td class="num">{fmtCount(g.Count)}</td>
                        <td class="num">{fmtCount(g.Sessions)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </Card>
            )}
          </>
        );
      }}
    </Async>
  );
}

function PercentileChart({ s, fmt, label }: { s: Series; fmt: (v: number) => string; label: string }) {
  const zoom = useZoom();
  if (!s.Points.length) return <p class="muted">No page loads with timing in this range.</p>;
  const pts = s.Points;
  return (
    <TimeChart
      label={`${label} percentiles over time`}
      x={pts.map((p) => (p.Time ?? 0) / 1000)}
      ys={[pts.map((p) => p.P50), pts.map((p) => p.P75), pts.map((p) => p.P90), pts.map((p) => p.P99)]}
      series={[
        { label: 'p50', color: '#10b981', fmt: (v) => (v == null ? '–' : fmt(v)) },
        { label: 'p75', color: '#3b82f6', fmt: (v) => (v == null ? '–' : fmt(v)) },
        { label: 'p90', color: '#f59e0b', fmt: (v) => (v == null ? '–' : fmt(v)) },
        { label: 'p99', color: '#ef4444', fmt: (v) => (v == null ? '–' : fmt(v)) },
      ]}
      yFmt={fmt}
      onZoom={zoom}
    />
  );
}

function VitalCard({ monitor, v }: { monitor: string; v: VitalFigure }) {
  const loc = useLoc();
  const r = v.Ratings;
  return (
    <div class="vital" data-vital={v.Vital}>
      <a class="vital-name" href={href({ name: 'rum', monitor, tab: 'vitals' }, loc.params, { vital: v.Vital })}>
        {v.Vital}
      </a>
      {v.Count === 0 ? (
        <span class="muted">no samples</span>
      ) : (
        <>
          <div class="vital-value">{fmtVital(v.Vital, v.P75)}</div>
          <RatingBar good={r?.Good ?? 0} ni={r?.NeedsImprovement ?? 0} poor={r?.Poor ?? 0} />
          <div class="muted small">{fmtCount(v.Count)} samples</div>
        </>
      )}
    </div>
  );
}

function Performance({ monitor }: { monitor: string }) {
  const q = useRum<Series>(monitor, 'loadtime', { GroupBy: 'page', Limit: 200 });
  const nav = useRum<{ Phases: { Name: string; Field: string; Count: number; Mean: number; P50: number; P75: number }[] }>(monitor, 'navigation');
  const lt = useRum<Series>(monitor, 'loadtime');
  const cols: Column<Point>[] = [
    { key: 'page', label: 'Page', value: (p) => p.Page ?? '', render: (p) => <FilterLink param="page" value={p.Page ?? ''} /> },
    { key: 'count', label: 'Loads', num: true, value: (p) => p.Count, render: (p) => fmtCount(p.Count) },
    { key: 'p50', label: 'p50', num: true, value: (p) => p.P50, render: (p) => fmtMs(p.P50) },
    { key: 'p75', label: 'p75', num: true, value: (p) => p.P75, render: (p) => fmtMs(p.P75) },
    { key: 'p90', label: 'p90', num: true, value: (p) => p.P90, render: (p) => fmtMs(p.P90) },
    { key: 'p99', label: 'p99', num: true, value: (p) => p.P99, render: (p) => fmtMs(p.P99) },
    { key: 'apdex', label: 'Apdex', num: true, value: (p) => p.Apdex?.Score ?? 0, render: (p) => p.Apdex?.Score.toFixed(2) ?? '–' },
  ];
  return (
    <>
      <Card title="Load time over time">
        <Async q={lt}>{(s) => <PercentileChart s={s} fmt={fmtMs} label="Load time" />}</Async>
      </Card>
      <Card title="By page">
        <Async q={q} what="Loading pages" empty={(d) => (d.Points.length ? null : <NoData monitor={monitor} />)}>
          {(d) => <Table label="Load time by page" rows={d.Points} cols={cols} rowKey={(p) => p.Page ?? ''} defaultSort="-count" />}
        </Async>
      </Card>
      <Card title="Where the time goes (navigation phases)">
        <Async q={nav} empty={(d) => (d.Phases.length ? null : <p class="muted">No navigation timings in this range.</p>)}>
          {(d) => {
            const max = Math.max(...d.Phases.map((p) => p.P75), 1);
            return (
              <table class="table" aria-label="Navigation phases">
                <thead>
                  <tr>
                    <th>Phase</th>
                    <th class="num">Mean</th>
                    <th class="num">p50</th>
                    <th class="num">p75</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {d.Phases.map((p) => (
                    <tr>
                      <td>{p.Name || p.Field}</td>
                      <td class="num">{fmtMs(p.Mean)}</td>
                      <td class="num">{fmtMs(p.P50)}</td>
                      <td class="num">{fmtMs(p.P75)}</td>
                      <td class="bar-cell">
                        <span class="hbar" style={{ width: `${(p.P75 / max) * 100}%` }} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            );
          }}
        </Async>
      </Card>
    </>
  );
}

function Vitals({ monitor }: { monitor: string }) {
  const loc = useLoc();
  const vital = VITALS.includes((loc.params.get('vital') ?? '').toUpperCase()) ? loc.params.get('vital')!.toUpperCase() : 'LCP';
  const series = useRum<VitalSeries>(monitor, 'vitals', { Vital: vital });
  const pages = useRum<VitalSeries>(monitor, 'vitals', { Vital: vital, GroupBy: 'page', Limit: 200 });
  const fmt = (v: number) => fmtVital(vital, v);
  const cols: Column<Point>[] = [
    { key: 'page', label: 'Page', value: (p) => p.Page ?? '', render: (p) => <FilterLink param="page" value={p.Page ?? ''} /> },
    { key: 'count', label: 'Samples', num: true, value: (p) => p.Count, render: (p) => fmtCount(p.Count) },
    { key: 'p75', label: 'p75', num: true, value: (p) => p.P75, render: (p) => fmt(p.P75) },
    { key: 'p90', label: 'p90', num: true, value: (p) => p.P90, render: (p) => fmt(p.P90) },
    {
      key: 'poor',
      label: 'Good / NI / poor',
      value: (p) => p.Ratings?.Poor ?? 0,
      render: (p) => <RatingBar good={p.Ratings?.Good ?? 0} ni={p.Ratings?.NeedsImprovement ?? 0} poor={p.Ratings?.Poor ?? 0} />,
    },
  ];
  return (
    <>
      <div class="segmented" role="tablist" aria-label="Vital">
        {VITALS.map((v) => (
          <a role="tab" aria-selected={v === vital} class={v === vital ? 'active' : ''} href={loc.path + '?' + withParams(loc.params, { vital: v })}>
            {v}
          </a>
        ))}
      </div>
      <Card title={`${vital} over time`}>
        <Async q={series}>
          {(s) => (
            <>
              <p class="muted small">
                Good ≤ {fmt(s.GoodThreshold)}, poor &gt; {fmt(s.PoorThreshold)} (web.dev thresholds)
              </p>
              <PercentileChart s={s} fmt={fmt} label={vital} />
            </>
          )}
        </Async>
      </Card>
      <Card title={`${vital} by page`}>
        <Async q={pages} empty={(d) => (d.Points.length ? null : <p class="muted">No {vital} samples in this range. CLS and INP arrive when the page is hidden.</p>)}>
          {(d) => <Table label={`${vital} by page`} rows={d.Points} cols={cols} rowKey={(p) => p.Page ?? ''} defaultSort="-count" />}
        </Async>
      </Card>
    </>
  );
}

export function groupKey(g: { Type: string; Message: string; Frame: string }): string {
  return JSON.stringify([g.Type, g.Message, g.Frame]);
}

function Errors({ monitor }: { monitor: string }) {
  const loc = useLoc();
  const q = useRum<{ Groups: ErrorGroup[] }>(monitor, 'errors', { Limit: 200, Samples: 10 });
  const sel = loc.params.get('group');
  const { range } = useClock();
  const cols: Column<ErrorGroup>[] = [
    {
      key: 'msg',
      label: 'Error',
      value: (g) => g.Message,
      render: (g) => (
        <a href={loc.path + '?' + withParams(loc.params, { group: groupKey(g) })}>
          <strong>{g.Type || 'Error'}</strong>: {g.Message}
          {g.Frame && <div class="muted small mono">{g.Frame}</div>}
        </a>
      ),
    },
    { key: 'count', label: 'Events', num: true, value: (g) => g.Count, render: (g) => fmtCount(g.Count) },
    { key: 'sessions', label: 'Sessions', num: true, value: (g) => g.Sessions, render: (g) => fmtCount(g.Sessions) },
    { key: 'last', label: 'Last seen', num: true, value: (g) => g.LastMicros, render: (g) => fmtAgo(g.LastMicros / 1000, range.to) },
  ];
  return (
    <Async q={q} what="Loading errors" empty={(d) => (d.Groups.length ? null : <Empty title="No JavaScript errors in this range">
      <p>Nice. Errors appear here when the <code>errors</code> telemetry is on and a page throws.</p></Empty>)}>
      {(d) => {
        const g = sel ? d.Groups.find((x) => groupKey(x) === sel) : undefined;
        if (sel && !g) return <Empty title="This error group has no events in the time range"><a href={loc.path + '?' + withParams(loc.params, { group: '' })}>All errors</a></Empty>;
        if (g) return <ErrorGroupView monitor={monitor} g={g} />;
        return (
          <Card title={`${d.Groups.length} error groups`}>
            <Table label="Error groups" rows={d.Groups} cols={cols} rowKey={groupKey} defaultSort="-count" />
          </Card>
        );
      }}
    </Async>
  );
}

function ErrorGroupView({ monitor, g }: { monitor: string; g: ErrorGroup }) {
  const loc = useLoc();
  const sessions = g.SampleSessions ?? [];
  const first = sessions[0];
  const tl = useRum<{ Events: TimelineEntry[] }>(monitor, 'session', first ? { SessionId: first } : {});
  const sample = tl.data?.Events.find((e) => g.SampleEventIDs?.includes(e.EventId));
  return (
    <>
      <p>
        <a href={loc.path + '?' + withParams(loc.params, { group: '' })}>← All errors</a>
      </p>
      <Card title={`${g.Type || 'Error'}: ${g.Message}`}>
        <div class="stats">
          <Stat label="Events" value={fmtCount(g.Count)} />
          <Stat label="Sessions" value={fmtCount(g.Sessions)} />
          <Stat label="First seen" value={fmtTime(g.FirstMicros / 1000)} />
          <Stat label="Last seen" value={fmtTime(g.LastMicros / 1000)} />
        </div>
        <p>
          Browsers: {(g.Browsers ?? []).join(', ') || '–'} · App versions: {(g.AppVersions ?? []).join(', ') || '–'}
        </p>
        <h3>Top frame</h3>
        <pre class="stack">{g.Frame || '(no stack frame)'}</pre>
        {sample && (
          <>
            <h3>Sample message</h3>
            <pre class="stack">{`${sample.ErrorType ?? ''}: ${sample.ErrorMessage ?? ''}`}</pre>
          </>
        )}
        <StackOf monitor={monitor} sessionId={first} eventIds={g.SampleEventIDs ?? []} />
        <h3>Sample sessions</h3>
        <ul class="plain">
          {[...new Set(sessions)].map((s) => (
            <li>
              <a class="mono" href={href({ name: 'rum', monitor, tab: 'sessions', sub: s }, loc.params)}>
                {s}
              </a>
            </li>
          ))}
        </ul>
      </Card>
    </>
  );
}

/** The full stack of a sample error, read through GetAppMonitorData (the group has only the top frame). */
function StackOf({ monitor, sessionId, eventIds }: { monitor: string; sessionId?: string; eventIds: string[] }) {
  const { range } = useClock();
  const q = useQuery<string | null>(sessionId ? `stack/${monitor}/${sessionId}/${range.from}` : null, async (signal) => {
    const r = await fetch(`/appmonitor/${encodeURIComponent(monitor)}/data`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ TimeRange: { After: Math.floor(range.from), Before: Math.ceil(range.to) }, MaxResults: 100, Filters: [{ Name: 'SessionId', Values: [sessionId] }, { Name: 'EventType', Values: ['js_error_event'] }] }),
      signal,
    }).then((x) => x.json());
    for (const s of r.Events ?? []) {
      const e = JSON.parse(s);
      if (eventIds.includes(e.event_id) && e.event_details?.stack) return String(e.event_details.stack);
    }
    return null;
  });
  if (!q.data) return null;
  return (
    <>
      <h3>Stack trace</h3>
      <pre class="stack">{q.data}</pre>
    </>
  );
}

function Http({ monitor }: { monitor: string }) {
  const q = useRum<{ Groups: HTTPGroup[] }>(monitor, 'http', { Limit: 200, TraceIds: 5 });
  const loc = useLoc();
  const cols: Column<HTTPGroup>[] = [
    { key: 'url', label: 'Endpoint', value: (g) => g.URLPattern, render: (g) => <span class="mono">{g.Method} {g.URLPattern}</span> },
    { key: 'count', label: 'Calls', num: true, value: (g) => g.Count, render: (g) => fmtCount(g.Count) },
    { key: 'errors', label: 'Errors', num: true, value: (g) => g.Errors, render: (g) => <span title={`4xx ${g.Status4xx} · 5xx ${g.Status5xx} · network ${g.NetworkErrors}`}>{fmtCount(g.Errors)}</span> },
    { key: 'rate', label: 'Error rate', num: true, value: (g) => g.ErrorRate, render: (g) => <span class={g.ErrorRate > 0.05 ? 'poor-t' : ''}>{fmtPct(g.ErrorRate)}</span> },
    { key: 'p50', label: 'p50', num: true, value: (g) => g.Latency.P50, render: (g) => (g.LatencyCount ? fmtMs(g.Latency.P50) : '–') },
    { key: 'p90', label: 'p90', num: true, value: (g) => g.Latency.P90, render: (g) => (g.LatencyCount ? fmtMs(g.Latency.P90) : '–') },
    {
      key: 'traces',
      label: 'Traces',
      render: (g) => (
        <span class="trace-links">
          {(g.TraceIDs ?? []).slice(0, 3).map((t) => (
            <a class="mono small" href={href({ name: 'trace', id: t }, loc.params)} title={t}>
              {t.slice(-6)}
            </a>
          ))}
        </span>
      ),
    },
  ];
  return (
    <Async q={q} what="Loading HTTP calls" empty={(d) => (d.Groups.length ? null : <Empty title="No HTTP calls recorded in this range"><p>Turn on the <code>http</code> telemetry on the app monitor; aws-rum-web records failed calls only unless <code>recordAllRequests</code> is set.</p></Empty>)}>
      {(d) => (
        <Card title="HTTP calls by endpoint">
          <Table label="HTTP endpoints" rows={d.Groups} cols={cols} rowKey={(g) => g.Method + g.URLPattern} defaultSort="-count" />
        </Card>
      )}
    </Async>
  );
}

function Sessions({ monitor }: { monitor: string }) {
  const loc = useLoc();
  const token = loc.params.get('token') ?? '';
  const q = useRum<{ Sessions: SessionSummary[]; NextToken?: string }>(monitor, 'sessions', { Limit: 50, ...(token ? { NextToken: token } : {}) });
  const cols: Column<SessionSummary>[] = [
    {
      key: 'start',
      label: 'Started',
      value: (s) => s.StartMicros,
      render: (s) => (
        <a href={href({ name: 'rum', monitor, tab: 'sessions', sub: s.SessionID }, loc.params)} class="session-link">
          {fmtTime(s.StartMicros / 1000)}
        </a>
      ),
    },
    { key: 'dur', label: 'Duration', num: true, value: (s) => s.EndMicros - s.StartMicros, render: (s) => fmtMs((s.EndMicros - s.StartMicros) / 1000) },
    { key: 'views', label: 'Page views', num: true, value: (s) => s.PageViews, render: (s) => fmtCount(s.PageViews) },
    { key: 'errors', label: 'Errors', num: true, value: (s) => s.Errors, render: (s) => <span class={s.Errors ? 'poor-t' : ''}>{fmtCount(s.Errors)}</span> },
    { key: 'entry', label: 'Entry → exit', render: (s) => `${s.EntryPage || '–'} → ${s.ExitPage || '–'}` },
    { key: 'browser', label: 'Browser', value: (s) => s.Browser, render: (s) => `${s.Browser} · ${s.OS} · ${s.DeviceType}` },
    { key: 'country', label: 'Country', value: (s) => s.Country, render: (s) => s.Country || '–' },
  ];
  return (
    <Async q={q} what="Loading sessions" empty={(d) => (d.Sessions.length ? null : <NoData monitor={monitor} />)}>
      {(d) => (
        <Card title="Sessions, newest first">
          <Table label="Sessions" rows={d.Sessions} cols={cols} rowKey={(s) => s.SessionID} />
          <div class="pager">
            {token && (
              <button class="btn" onClick={() => history.back()}>
                ← Newer
              </button>
            )}
            {d.NextToken && (
              <a class="btn" href={loc.path + '?' + withParams(loc.params, { token: d.NextToken })}>
                Older →
              </a>
            )}
          </div>
        </Card>
      )}
    </Async>
  );
}

const KIND_LABEL: Record<string, string> = {
  session_start_event: 'Session start',
  page_view_event: 'Page view',
  performance_navigation_event: 'Page load',
  performance_resource_event: 'Resource',
  largest_contentful_paint_event: 'LCP',
  first_contentful_paint_event: 'FCP',
  first_input_delay_event: 'FID',
  cumulative_layout_shift_event: 'CLS',
  interaction_to_next_paint_event: 'INP',
  time_to_first_byte_event: 'TTFB',
  js_error_event: 'JS error',
  http_event: 'HTTP',
  xray_trace_event: 'X-Ray trace',
  dom_event: 'DOM event',
};

function SessionView({ monitor, id }: { monitor: string; id: string }) {
  const loc = useLoc();
  const q = useRum<{ SessionId: string; Events: TimelineEntry[]; TraceIds: string[]; Truncated: boolean }>(monitor, 'session', { SessionId: id });
  const [hideResources, setHide] = useState(true);
  return (
    <>
      <p>
        <a href={href({ name: 'rum', monitor, tab: 'sessions' }, loc.params)}>← Sessions</a>
      </p>
      <Async q={q} what="Loading session">
        {(d) => {
          const t0 = d.Events[0]?.Time ?? 0;
          const evs = d.Events.filter((e) => !(hideResources && (e.Kind === 'performance_resource_event' || e.Kind === 'xray_trace_event')));
          const count = (k: string) => d.Events.filter((e) => e.Kind === k).length;
          return (
            <Card title={<span>Session <span class="mono">{id}</span></span>}>
              <div class="stats">
                <Stat label="Page views" value={count('page_view_event')} />
                <Stat label="Errors" value={count('js_error_event')} tone={count('js_error_event') ? 'poor' : ''} />
                <Stat label="HTTP calls" value={count('http_event')} />
                <Stat label="Traces" value={d.TraceIds.length} />
                <Stat label="Duration" value={fmtMs((d.Events[d.Events.length - 1]?.Time ?? t0) - t0)} />
              </div>
              <label class="check">
                <input type="checkbox" checked={hideResources} onChange={(e) => setHide(e.currentTarget.checked)} /> Hide resource and trace events
              </label>
              {d.Truncated && <p class="muted">Showing the first {d.Events.length} events.</p>}
              <ol class="timeline" aria-label="Session timeline">
                {evs.map((e) => (
                  <li class={`tl-${e.Kind}`} data-kind={e.Kind}>
                    <span class="tl-time mono">+{fmtMs(e.Time - t0)}</span>
                    <span class="tl-kind">{KIND_LABEL[e.Kind] ?? e.Kind}</span>
                    <span class="tl-body">
                      <TimelineBody e={e} monitor={monitor} />
                    </span>
                  </li>
                ))}
              </ol>
            </Card>
          );
        }}
      </Async>
    </>
  );
}

function TimelineBody({ e, monitor }: { e: TimelineEntry; monitor: string }) {
  const loc = useLoc();
  const vital = KIND_LABEL[e.Kind];
  switch (e.Kind) {
    case 'page_view_event':
      return <span class="mono">{e.Page}</span>;
    case 'performance_navigation_event':
      return (
        <span>
          {e.Page} loaded in <strong>{fmtMs(e.DurationMs)}</strong>
        </span>
      );
    case 'js_error_event':
      return (
        <span class="poor-t">
          {e.ErrorType}: {e.ErrorMessage}
        </span>
      );
    case 'http_event':
    case 'xray_trace_event':
      return (
        <span>
          <span class="mono">
            {e.Method} {e.Url}
          </span>{' '}
          {e.Status ? <span class={e.Status >= 500 ? 'badge fault' : e.Status >= 400 ? 'badge error' : 'badge ok'}>{e.Status}</span> : null}{' '}
          {e.DurationMs != null && fmtMs(e.DurationMs)}{' '}
          {e.TraceId && (
            <a class="trace-link" href={href({ name: 'trace', id: e.TraceId }, loc.params)}>
              View trace →
            </a>
          )}
        </span>
      );
    case 'largest_contentful_paint_event':
    case 'first_contentful_paint_event':
    case 'first_input_delay_event':
    case 'cumulative_layout_shift_event':
    case 'interaction_to_next_paint_event':
    case 'time_to_first_byte_event':
      return <span>{fmtVital(vital, e.Value)}</span>;
    default:
      void monitor;
      return <span class="muted">{e.Page}</span>;
  }
}

function Audience({ monitor }: { monitor: string }) {
  const dims = [
    ['browser', 'Browser', 'browser'],
    ['os', 'Operating system', 'os'],
    ['device_type', 'Device', 'device'],
    ['country', 'Country', 'country'],
    ['language', 'Language', ''],
    ['app_version', 'App version', 'version'],
  ];
  return (
    <div class="audience-grid">
      {dims.map(([d, label, param]) => (
        <AudienceCard monitor={monitor} dim={d} label={label} param={param} />
      ))}
    </div>
  );
}

function AudienceCard({ monitor, dim, label, param }: { monitor: string; dim: string; label: string; param: string }) {
  const q = useRum<{ Rows: { Value: string; Sessions: number; PageViews: number }[] }>(monitor, 'audience', { Dimension: dim });
  return (
    <Card title={label}>
      <Async q={q} empty={(d) => (d.Rows.length ? null : <p class="muted">No sessions in this range.</p>)}>
        {(d) => {
          const total = d.Rows.reduce((n, r) => n + r.Sessions, 0) || 1;
          return (
            <table class="table" aria-label={label}>
              <tbody>
                {d.Rows.slice(0, 10).map((r) => (
                  <tr>
                    <td>{param ? <FilterLink param={param} value={r.Value} /> : r.Value || '(unknown)'}</td>
                    <td class="num">{fmtCount(r.Sessions)}</td>
                    <td class="bar-cell">
                      <span class="hbar" style={{ width: `${(r.Sessions / total) * 100}%` }} />
                    </td>
                    <td class="num muted">{fmtPct(r.Sessions / total, 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Async>
    </Card>
  );
}

function Journeys({ monitor }: { monitor: string }) {
  const q = useRum<{ Transitions: { From: string; To: string; Count: number }[]; Exits: { Page: string; Sessions: number; Exits: number; ExitRate: number }[] }>(monitor, 'journeys', { Limit: 50 });
  return (
    <Async q={q} empty={(d) => (d.Transitions.length || d.Exits.length ? null : <Empty title="No page-to-page journeys yet"><p>Journeys need sessions with two or more page views; enable cookies on the app monitor so sessions span page loads.</p></Empty>)}>
      {(d) => {
        const max = Math.max(1, ...d.Transitions.map((t) => t.Count));
        return (
          <div class="two-col">
            <Card title="Top transitions">
              <table class="table" aria-label="Page transitions">
                <thead>
                  <tr>
                    <th>From</th>
                    <th>To</th>
                    <th class="num">Sessions</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {d.Transitions.map((t) => (
                    <tr>
                      <td class="mono">{t.From}</td>
                      <td class="mono">→ {t.To}</td>
                      <td class="num">{fmtCount(t.Count)}</td>
                      <td class="bar-cell">
                        <span class="hbar" style={{ width: `${(t.Count / max) * 100}%` }} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
            <Card title="Drop-off by page">
              <table class="table" aria-label="Exit pages">
                <thead>
                  <tr>
                    <th>Page</th>
                    <th class="num">Sessions</th>
                    <th class="num">Ended here</th>
                    <th class="num">Exit rate</th>
                  </tr>
                </thead>
                <tbody>
                  {d.Exits.map((e) => (
                    <tr>
                      <td class="mono">{e.Page}</td>
                      <td class="num">{fmtCount(e.Sessions)}</td>
                      <td class="num">{fmtCount(e.Exits)}</td>
                      <td class="num">{fmtPct(e.ExitRate)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
          </div>
        );
      }}
    </Async>
  );
}

export { navigate };
