import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, batchGetTraces, findRumSession, traceSummaries, TraceSummary } from '../lib/api';
import { EXAMPLES, caret, parseSyntaxError } from '../lib/filterexpr';
import { fmtCount, fmtMs, fmtSec, fmtTime } from '../lib/format';
import { href, withParams } from '../lib/urlstate';
import { buildTree, bounds, criticalPath, exceptions, layout, rumSession, Span, status, ticks } from '../lib/waterfall';
import { Async, Card, Column, Empty, ErrorBox, Loading, StatusBadge, Table } from '../ui/components';
import { useClock, useQuery } from '../ui/data';
import { navigate, setParams, useLoc } from '../ui/router';
import { PageTitle } from '../ui/shell';

export function summaryStatus(s: TraceSummary): 'fault' | 'error' | 'throttle' | 'ok' {
  if (s.HasFault) return 'fault';
  if (s.HasThrottle) return 'throttle';
  if (s.HasError) return 'error';
  return 'ok';
}

function annotationText(s: TraceSummary): string {
  return Object.entries(s.Annotations ?? {})
    .map(([k, vs]) => `${k}=${vs.map((v) => v.AnnotationValue.StringValue ?? v.AnnotationValue.NumberValue ?? v.AnnotationValue.BooleanValue).join('|')}`)
    .join(' ');
}

export function TracesPage() {
  const loc = useLoc();
  const { range, tick } = useClock();
  const filter = loc.params.get('filter') ?? '';
  const [text, setText] = useState(filter);
  useEffect(() => setText(filter), [filter]);
  const token = loc.params.get('token') ?? '';
  const body = { StartTime: Math.floor(range.from / 1000), EndTime: Math.ceil(range.to / 1000), FilterExpression: filter || undefined, NextToken: token || undefined };
  const q = useQuery(JSON.stringify(body), (s) => traceSummaries(body, s), tick);
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const k = (e: KeyboardEvent) => {
      if (e.key === '/' && document.activeElement?.tagName !== 'INPUT' && document.activeElement?.tagName !== 'TEXTAREA') {
        e.preventDefault();
        input.current?.focus();
      }
    };
    document.addEventListener('keydown', k);
    return () => document.removeEventListener('keydown', k);
  }, []);
  const syntax = q.error instanceof ApiError && q.error.status === 400 ? parseSyntaxError(q.error.message) : null;
  const submit = (e?: Event) => {
    e?.preventDefault();
    setParams(withParams(loc.params, { filter: text.trim(), token: '' }), { replace: false });
  };
  const cols: Column<TraceSummary>[] = [
    {
      key: 'id',
      label: 'Trace',
      render: (s) => (
        <a class="mono trace-row-link" href={href({ name: 'trace', id: s.Id }, loc.params)}>
          {s.Id}
        </a>
      ),
    },
    { key: 'time', label: 'Started', value: (s) => s.StartTime ?? 0, render: (s) => (s.StartTime ? fmtTime(s.StartTime * 1000) : '–') },
    { key: 'status', label: 'Status', value: (s) => ['ok', 'throttle', 'error', 'fault'].indexOf(summaryStatus(s)), render: (s) => <StatusBadge s={summaryStatus(s)} /> },
    { key: 'http', label: 'Request', value: (s) => s.Http?.HttpURL ?? '', render: (s) => <span class="mono small">{s.Http?.HttpMethod} {s.Http?.HttpURL} {s.Http?.HttpStatus ? `→ ${s.Http.HttpStatus}` : ''}</span> },
    { key: 'duration', label: 'Duration', num: true, value: (s) => s.Duration ?? 0, render: (s) => fmtSec(s.Duration) },
    { key: 'response', label: 'Response', num: true, value: (s) => s.ResponseTime ?? 0, render: (s) => fmtSec(s.ResponseTime) },
    { key: 'entry', label: 'Entry point', value: (s) => s.EntryPoint?.Name ?? '', render: (s) => s.EntryPoint?.Name ?? '–' },
    { key: 'ann', label: 'Annotations', render: (s) => <span class="small mono">{annotationText(s)}</span> },
  ];
  return (
    <>
      <PageTitle title="Traces" />
      <form class="filter-form" onSubmit={submit}>
        <label for="filter-expr" class="field-label">
          Filter expression <span class="muted small">(press / to focus, Enter to search)</span>
        </label>
        <div class="filter-row">
          <textarea
            id="filter-expr"
            ref={input}
            rows={1}
            spellcheck={false}
            class={`mono ${syntax ? 'invalid' : ''}`}
            aria-invalid={!!syntax}
            aria-describedby="filter-error"
            placeholder='e.g. service("front") { fault } AND responsetime > 1'
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) submit(e);
            }}
          />
          <button class="btn primary" type="submit">
            Search
          </button>
        </div>
        {syntax ? (
          <div id="filter-error" class="syntax-error" role="alert">
            <pre class="mono">
              {caret(filter, syntax).text}
              {'\n'}
              <span class="caret">{caret(filter, syntax).pointer}</span>
            </pre>
            <span>
              {syntax.line}:{syntax.col}: {syntax.message}
            </span>
          </div>
        ) : (
          <div class="examples small">
            Try:{' '}
            {EXAMPLES.map((x) => (
              <button type="button" class="chip" onClick={() => setParams(withParams(loc.params, { filter: x }), { replace: false })}>
                {x}
              </button>
            ))}
          </div>
        )}
      </form>
      {syntax ? null : (
        <Async
          q={q}
          what="Searching traces"
          empty={(d) =>
            d.TraceSummaries.length ? null : (
              <Empty title={filter ? 'No traces match this filter in the time range' : 'No traces in this time range yet'}>
                {filter ? (
                  <p>Widen the time range or loosen the filter.</p>
                ) : (
                  <>
                    <p>
                      Send segments from an X-Ray SDK to the daemon address (UDP <code>:2000</code> by default), wrap your Go handlers with
                      Sightline's <code>tracing</code> middleware, or enable X-Ray on an app monitor so browsers start traces.
                    </p>
                    <p>
                      Or run <code>sightline demo</code> for a traced sample app.
                    </p>
                  </>
                )}
              </Empty>
            )
          }
        >
          {(d) => (
            <Card title={`${fmtCount(d.TraceSummaries.length)} traces${d.NextToken ? ' (more pages)' : ''}`}>
              <Table label="Trace summaries" rows={d.TraceSummaries} cols={cols} rowKey={(s) => s.Id} onRow={(s) => navigate(href({ name: 'trace', id: s.Id }, loc.params))} />
              <div class="pager">
                {token && (
                  <button class="btn" onClick={() => history.back()}>
                    ← Previous page
                  </button>
                )}
                {d.NextToken && (
                  <a class="btn" href={loc.path + '?' + withParams(loc.params, { token: d.NextToken })}>
                    Next page →
                  </a>
                )}
              </div>
            </Card>
          )}
        </Async>
      )}
      {q.error && syntax && <p class="muted small">Fix the expression to search.</p>}
    </>
  );
}

export function TracePage({ id }: { id: string }) {
  const loc = useLoc();
  const q = useQuery('trace:' + id, (s) => batchGetTraces([id], s));
  return (
    <>
      <PageTitle title={<span>Trace <span class="mono">{id}</span></span>}>
        <a class="btn" href={href({ name: 'traces' }, loc.params)}>
          ← Traces
        </a>
      </PageTitle>
      <Async q={q} what="Loading trace" empty={(d) => (d.Traces.length ? null : <Empty title="Trace not found"><p>Segments may still be on their way (the SDKs send them when a request ends), or the trace id is wrong.</p></Empty>)}>
        {(d) => <Waterfall segments={d.Traces[0].Segments} />}
      </Async>
    </>
  );
}

function Waterfall({ segments }: { segments: { Id: string; Document: string }[] }) {
  const loc = useLoc();
  const { roots, skipped } = useMemo(() => buildTree(segments), [segments]);
  const crit = useMemo(() => criticalPath(roots), [roots]);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const rows = layout(roots, collapsed);
  const b = bounds(roots);
  const dur = b.end - b.start;
  const selId = loc.params.get('span') ?? rows[0]?.span.id;
  const selected = rows.find((r) => r.span.id === selId)?.span ?? findSpan(roots, selId ?? '');
  const toggle = (sid: string) => {
    const n = new Set(collapsed);
    if (n.has(sid)) n.delete(sid);
    else n.add(sid);
    setCollapsed(n);
  };
  const select = (sid: string) => setParams(withParams(loc.params, { span: sid }));
  const onKey = (e: KeyboardEvent, i: number) => {
    const r = rows[i];
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = rows[i + (e.key === 'ArrowDown' ? 1 : -1)];
      if (next) {
        select(next.span.id);
        (document.querySelector(`[data-span="${next.span.id}"] .wf-name`) as HTMLElement | null)?.focus();
      }
    } else if ((e.key === 'ArrowLeft' && r.hasChildren && !r.collapsed) || (e.key === 'ArrowRight' && r.collapsed)) {
      e.preventDefault();
      toggle(r.span.id);
    }
  };
  return (
    <div class="trace-view">
      <Card title={`${rows.length} spans · ${fmtSec(dur)}`} actions={<span class="muted small"><span class="legend-crit" /> critical path</span>}>
        {skipped > 0 && <p class="muted">{skipped} segment documents could not be read.</p>}
        <div class="wf-head" aria-hidden="true">
          <div class="wf-label" />
          <div class="wf-axis">
            {ticks(dur).map((t) => (
              <span style={{ left: `${dur ? (t / dur) * 100 : 0}%` }}>{fmtSec(t)}</span>
            ))}
          </div>
        </div>
        <div class="waterfall" role="tree" aria-label="Trace timeline">
          {rows.map((r, i) => (
            <div
              role="treeitem"
              aria-expanded={r.hasChildren ? !r.collapsed : undefined}
              aria-selected={r.span.id === selId}
              aria-level={r.depth + 1}
              data-span={r.span.id}
              class={`wf-row ${r.span.id === selId ? 'selected' : ''} ${crit.has(r.span.id) ? 'critical' : ''} ${r.span.kind}`}
            >
              <div class="wf-label" style={{ paddingLeft: `${r.depth * 14 + 4}px` }}>
                {r.hasChildren ? (
                  <button class="wf-toggle" aria-label={r.collapsed ? 'Expand' : 'Collapse'} onClick={() => toggle(r.span.id)} tabIndex={-1}>
                    {r.collapsed ? '▸' : '▾'}
                  </button>
                ) : (
                  <span class="wf-toggle" />
                )}
                <button class="wf-name" onClick={() => select(r.span.id)} onKeyDown={(e) => onKey(e, i)} title={r.span.name}>
                  {r.span.name}
                  {r.span.inferred && <span class="muted small"> (inferred)</span>}
                  {r.span.origin && r.span.kind === 'segment' && <span class="muted small"> {r.span.origin}</span>}
                </button>
              </div>
              <div class="wf-track" onClick={() => select(r.span.id)}>
                <span class={`wf-bar ${status(r.span)}`} style={{ left: `${r.left}%`, width: `max(2px, ${r.width}%)` }} />
                <span class="wf-dur" style={{ left: `min(calc(${r.left + r.width}% + 4px), 90%)` }}>
                  {fmtMs((r.span.end - r.span.start) * 1000)}
                </span>
              </div>
            </div>
          ))}
        </div>
      </Card>
      {selected && <SpanDetails span={selected} traceStart={b.start} />}
    </div>
  );
}

function findSpan(roots: Span[], id: string): Span | undefined {
  for (const r of roots) {
    if (r.id === id) return r;
    const x = findSpan(r.children, id);
    if (x) return x;
  }
  return undefined;
}

function SpanDetails({ span, traceStart }: { span: Span; traceStart: number }) {
  const d = span.doc;
  const ex = exceptions(span);
  const rum = rumSession(span);
  return (
    <Card title={span.name} class="span-details">
      <dl class="kv">
        <dt>Kind</dt>
        <dd>
          {span.kind}
          {span.inferred ? ' (inferred)' : ''} {span.namespace ? `· ${span.namespace}` : ''} {span.origin ? `· ${span.origin}` : ''}
        </dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge s={status(span)} />
          {span.inProgress && <span class="badge">in progress</span>}
        </dd>
        <dt>Start</dt>
        <dd>
          +{fmtSec(span.start - traceStart)} ({fmtTime(span.start * 1000)})
        </dd>
        <dt>Duration</dt>
        <dd>{fmtSec(span.end - span.start)}</dd>
        <dt>Id</dt>
        <dd class="mono">{span.id}</dd>
        {d.user && (
          <>
            <dt>User</dt>
            <dd>{d.user}</dd>
          </>
        )}
      </dl>
      {rum && <RumLink span={span} />}
      {d.http && (
        <>
          <h3>HTTP</h3>
          <dl class="kv">
            {d.http.request?.method && (
              <>
                <dt>Request</dt>
                <dd class="mono">
                  {d.http.request.method} {d.http.request.url}
                </dd>
              </>
            )}
            {d.http.response?.status != null && (
              <>
                <dt>Response</dt>
                <dd>
                  {d.http.response.status} {d.http.response.content_length != null ? `· ${d.http.response.content_length} bytes` : ''}
                </dd>
              </>
            )}
            {d.http.request?.user_agent && (
              <>
                <dt>User agent</dt>
                <dd class="small">{d.http.request.user_agent}</dd>
              </>
            )}
            {d.http.request?.client_ip && (
              <>
                <dt>Client IP</dt>
                <dd>{d.http.request.client_ip}</dd>
              </>
            )}
          </dl>
        </>
      )}
      {d.annotations && Object.keys(d.annotations).length > 0 && (
        <>
          <h3>Annotations</h3>
          <dl class="kv">
            {Object.entries(d.annotations).map(([k, v]) => (
              <>
                <dt>{k}</dt>
                <dd class="mono">{String(v)}</dd>
              </>
            ))}
          </dl>
        </>
      )}
      {ex.length > 0 && (
        <>
          <h3>Exceptions</h3>
          {ex.map((e) => (
            <div class="exception">
              <strong>{e.type}</strong>: {e.message} {e.remote && <span class="badge">remote</span>}
              {e.stack.length > 0 && <pre class="stack">{e.stack.join('\n')}</pre>}
            </div>
          ))}
        </>
      )}
      {d.sql && (
        <>
          <h3>SQL</h3>
          <pre class="stack">{JSON.stringify(d.sql, null, 2)}</pre>
        </>
      )}
      {d.metadata && (
        <>
          <h3>Metadata</h3>
          <pre class="stack">{JSON.stringify(d.metadata, null, 2)}</pre>
        </>
      )}
      <details>
        <summary>Raw JSON</summary>
        <pre class="stack">{JSON.stringify(d, null, 2)}</pre>
      </details>
    </Card>
  );
}

/** Link from a browser segment back to the RUM session that recorded it. */
function RumLink({ span }: { span: Span }) {
  const loc = useLoc();
  const traceId = String(span.doc.trace_id ?? '');
  const q = useQuery(traceId ? 'rumsession:' + traceId : null, (s) => findRumSession(traceId, span.start * 1000, s));
  if (q.loading) return <Loading what="Finding the RUM session" />;
  if (q.error) return <ErrorBox error={q.error} />;
  if (!q.data) return <p class="muted small">Browser segment: its RUM session is not stored (sampled out or outside retention).</p>;
  const around = Math.floor(span.start * 1000);
  const p = withParams(loc.params, { range: '', from: String(around - 3_600_000), to: String(around + 3_600_000) });
  return (
    <p>
      <a class="btn rum-session-link" href={href({ name: 'rum', monitor: q.data.monitor, tab: 'sessions', sub: q.data.sessionId }, p)}>
        Open the RUM session ({q.data.monitor}) →
      </a>
    </p>
  );
}

export { fmtMs };
