import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import { useEffect, useRef } from 'preact/hooks';
import { serviceGraph } from '../lib/api';
import { serviceFilter } from '../lib/filterexpr';
import { fmtCount, fmtPct, fmtSec } from '../lib/format';
import { health, histogramPercentile, isClient, label, meanResponse, Service, shares, toElements } from '../lib/servicegraph';
import { href, withParams } from '../lib/urlstate';
import { HistogramChart } from '../ui/chart';
import { Async, Card, Empty, StatusBadge } from '../ui/components';
import { useClock, useQuery } from '../ui/data';
import { setParams, useLoc } from '../ui/router';
import { PageTitle } from '../ui/shell';

cytoscape.use(dagre);

const HEALTH_COLOURS: Record<string, string> = { ok: '#10b981', error: '#f59e0b', throttle: '#a855f7', fault: '#ef4444', none: '#94a3b8' };

export function MapPage() {
  const { range, tick } = useClock();
  const body = { StartTime: Math.floor(range.from / 1000), EndTime: Math.ceil(range.to / 1000) };
  const q = useQuery(JSON.stringify(body), (s) => serviceGraph(body, s), tick);
  const loc = useLoc();
  const sel = loc.params.get('node');
  return (
    <>
      <PageTitle title="Service map" />
      <Async
        q={q}
        what="Building the service map"
        empty={(d) =>
          d.Services?.length ? null : (
            <Empty title="No traced services in this time range">
              <p>
                The map draws itself from traces: send segments from an X-Ray SDK (UDP <code>:2000</code>), or enable X-Ray on an app monitor so
                browser calls start traces. Run <code>sightline demo</code> to see one.
              </p>
            </Empty>
          )
        }
      >
        {(d) => {
          const selected = d.Services.find((s) => String(s.ReferenceId) === sel);
          return (
            <div class="map-layout">
              <Card class="map-card">
                <Graph services={d.Services} selected={sel} />
                <div class="legend small">
                  {['ok', 'error', 'throttle', 'fault'].map((h) => (
                    <span>
                      <span class="dot" style={{ background: HEALTH_COLOURS[h] }} /> {h}
                    </span>
                  ))}
                  <span class="muted">size = requests</span>
                </div>
              </Card>
              <div class="map-side">
                {selected ? <NodeDetails s={selected} all={d.Services} /> : <p class="muted">Select a node to see its health, response times and traces.</p>}
                <Card title="Services">
                  <ul class="plain node-list">
                    {d.Services.map((s) => (
                      <li>
                        <button class={`linkish ${String(s.ReferenceId) === sel ? 'active' : ''}`} onClick={() => setParams(withParams(loc.params, { node: String(s.ReferenceId) }))}>
                          <span class="dot" style={{ background: HEALTH_COLOURS[isClient(s) ? 'none' : health(s.SummaryStatistics)] }} /> {label(s)}{' '}
                          <span class="muted small">{s.Type}</span>
                        </button>
                      </li>
                    ))}
                  </ul>
                </Card>
              </div>
            </div>
          );
        }}
      </Async>
    </>
  );
}

function Graph({ services, selected }: { services: Service[]; selected: string | null }) {
  const el = useRef<HTMLDivElement>(null);
  const cyRef = useRef<cytoscape.Core | null>(null);
  const loc = useLoc();
  const locRef = useRef(loc);
  locRef.current = loc;
  useEffect(() => {
    const css = getComputedStyle(document.documentElement);
    const fg = css.getPropertyValue('--fg').trim() || '#111';
    const muted = css.getPropertyValue('--muted').trim() || '#888';
    const els = toElements(services, fmtSec);
    const cy = cytoscape({
      container: el.current!,
      elements: [...els.nodes, ...els.edges] as cytoscape.ElementDefinition[],
      wheelSensitivity: 0.3,
      style: [
        {
          selector: 'node',
          style: {
            'background-color': (n: cytoscape.NodeSingular) => HEALTH_COLOURS[n.data('health')],
            width: 'data(size)',
            height: 'data(size)',
            label: 'data(label)',
            color: fg,
            'font-size': 12,
            'text-valign': 'bottom',
            'text-margin-y': 4,
            'border-width': 2,
            'border-color': '#ffffff',
          },
        },
        { selector: 'node[?client]', style: { shape: 'round-rectangle', 'background-color': '#64748b' } },
        { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#3b82f6' } },
        {
          selector: 'edge',
          style: {
            width: 2,
            'curve-style': 'bezier',
            'target-arrow-shape': 'triangle',
            'line-color': (e: cytoscape.EdgeSingular) => (e.data('health') === 'ok' ? muted : HEALTH_COLOURS[e.data('health')]),
            'target-arrow-color': (e: cytoscape.EdgeSingular) => (e.data('health') === 'ok' ? muted : HEALTH_COLOURS[e.data('health')]),
            label: 'data(label)',
            'font-size': 10,
            color: muted,
            'text-rotation': 'autorotate',
            'text-background-color': css.getPropertyValue('--bg').trim() || '#fff',
            'text-background-opacity': 0.8,
          },
        },
      ],
      layout: { name: 'dagre', rankDir: 'LR', nodeSep: 40, rankSep: 120 } as cytoscape.LayoutOptions,
    });
    cy.on('tap', 'node', (e) => {
      setParams(withParams(locRef.current.params, { node: e.target.id() }));
    });
    cy.on('tap', (e) => {
      if (e.target === cy) setParams(withParams(locRef.current.params, { node: '' }));
    });
    cyRef.current = cy;
    (window as any).__sightlineMap = cy; // for end-to-end tests
    return () => cy.destroy();
  }, [JSON.stringify(services)]);
  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.nodes().unselect();
    if (selected) cy.getElementById(selected).select();
  }, [selected, services]);
  return <div class="map" ref={el} aria-label="Service map graph (use the service list for keyboard access)" role="img" />;
}

function NodeDetails({ s, all }: { s: Service; all: Service[] }) {
  const loc = useLoc();
  const st = s.SummaryStatistics;
  const sh = shares(st);
  const name = s.Name ?? label(s);
  const byRef = new Map(all.map((x) => [x.ReferenceId, x]));
  const hist = s.ResponseTimeHistogram ?? [];
  return (
    <Card title={label(s)} class="node-details">
      <p class="muted small">
        {s.Type}
        {s.Root ? ' · root' : ''}
      </p>
      {isClient(s) ? (
        <p>Browsers and other callers without their own segments. Requests they made:</p>
      ) : (
        <dl class="kv">
          <dt>Health</dt>
          <dd>
            <StatusBadge s={health(st)} />
          </dd>
          <dt>Requests</dt>
          <dd>{fmtCount(st?.TotalCount ?? 0)}</dd>
          <dt>Mean response</dt>
          <dd>{fmtSec(meanResponse(st))}</dd>
          <dt>p50 / p90 / p99</dt>
          <dd>
            {fmtSec(histogramPercentile(hist, 50))} / {fmtSec(histogramPercentile(hist, 90))} / {fmtSec(histogramPercentile(hist, 99))}
          </dd>
          <dt>Ok / error / throttle / fault</dt>
          <dd>
            {fmtPct(sh.ok)} / {fmtPct(sh.error)} / {fmtPct(sh.throttle)} / {fmtPct(sh.fault)}
          </dd>
        </dl>
      )}
      {hist.length > 0 && (
        <>
          <h3>Response time distribution</h3>
          <HistogramChart points={hist} label={`Response time histogram of ${label(s)}`} xFmt={(v) => fmtSec(v)} />
        </>
      )}
      {(s.Edges ?? []).length > 0 && (
        <>
          <h3>Calls to</h3>
          <ul class="plain">
            {(s.Edges ?? []).map((e) => {
              const t = byRef.get(e.ReferenceId);
              return (
                <li>
                  {t ? label(t) : `#${e.ReferenceId}`}: {fmtCount(e.SummaryStatistics?.TotalCount ?? 0)} calls, mean {fmtSec(meanResponse(e.SummaryStatistics))}
                </li>
              );
            })}
          </ul>
        </>
      )}
      {!isClient(s) && (
        <a class="btn primary traces-through" href={href({ name: 'traces' }, loc.params, { filter: serviceFilter(name) })}>
          Traces through here →
        </a>
      )}
    </Card>
  );
}
