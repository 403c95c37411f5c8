import { useState } from 'preact/hooks';
import { ApiError, consoleConfig, createMonitor, deleteMonitor, getMonitor, listMonitors, Monitor, MonitorInput, updateMonitor } from '../lib/api';
import { collectorBase, rumWebSnippet, sightlineSnippet } from '../lib/snippet';
import { href } from '../lib/urlstate';
import { Async, Card, CopyBlock, Empty, ErrorBox, Field } from '../ui/components';
import { useClock, useQuery } from '../ui/data';
import { navigate, useLoc } from '../ui/router';
import { PageTitle } from '../ui/shell';

const TELEMETRIES = ['errors', 'performance', 'http'];

export function MonitorsPage() {
  const loc = useLoc();
  const { tick } = useClock();
  const q = useQuery('monitors', (s) => listMonitors(s), tick);
  return (
    <>
      <PageTitle title="App monitors">
        <a class="btn primary" href={href({ name: 'monitor-new' }, loc.params)}>
          + New app monitor
        </a>
      </PageTitle>
      <Async
        q={q}
        what="Loading app monitors"
        empty={(d) =>
          d.length === 0 ? (
            <Empty title="No app monitors yet">
              <p>An app monitor collects real-user data from one web site. Create one, then paste its snippet into your pages.</p>
              <p>
                <a class="btn primary" href={href({ name: 'monitor-new' }, loc.params)}>
                  Create your first app monitor
                </a>
              </p>
              <p class="muted">
                Just exploring? Run <code>sightline demo</code> to start a sample shop with synthetic users.
              </p>
            </Empty>
          ) : null
        }
      >
        {(d) => (
          <div class="monitor-grid">
            {d.map((m) => (
              <Card title={<a href={href({ name: 'rum', monitor: m.Name, tab: 'overview' }, loc.params)}>{m.Name}</a>}>
                <div class="muted mono small">{m.Id}</div>
                <div class="row-links">
                  <a href={href({ name: 'rum', monitor: m.Name, tab: 'overview' }, loc.params)}>Overview</a>
                  <a href={href({ name: 'rum', monitor: m.Name, tab: 'sessions' }, loc.params)}>Sessions</a>
                  <a href={href({ name: 'rum', monitor: m.Name, tab: 'errors' }, loc.params)}>Errors</a>
                  <a href={href({ name: 'monitor', monitor: m.Name }, loc.params)}>Settings & snippet</a>
                </div>
              </Card>
            ))}
          </div>
        )}
      </Async>
    </>
  );
}

interface FormState {
  name: string;
  domains: string;
  sampleRate: string;
  telemetries: string[];
  xray: boolean;
  cookies: boolean;
  allowList: string;
  included: string;
  excluded: string;
  customEvents: boolean;
}

function toForm(m?: Monitor): FormState {
  const c = m?.AppMonitorConfiguration ?? {};
  return {
    name: m?.Name ?? '',
    domains: (m?.DomainList?.length ? m.DomainList : m?.Domain ? [m.Domain] : []).join('\n'),
    sampleRate: String(c.SessionSampleRate ?? 1),
    telemetries: c.Telemetries ?? TELEMETRIES,
    xray: c.EnableXRay ?? true,
    cookies: c.AllowCookies ?? true,
    allowList: (c.TraceHeaderAllowList ?? []).join('\n'),
    included: (c.IncludedPages ?? []).join('\n'),
    excluded: (c.ExcludedPages ?? []).join('\n'),
    customEvents: m?.CustomEvents?.Status === 'ENABLED',
  };
}

const lines = (s: string) => s.split(/[\n,]/).map((x) => x.trim()).filter(Boolean);

/** The API's input from the form, or the first field error. */
export function toInput(f: FormState, creating: boolean): MonitorInput | { field: string; message: string } {
  if (creating && !/^[A-Za-z0-9_.\-#/]{1,255}$/.test(f.name)) return { field: 'name', message: 'Use 1–255 letters, digits and _ . - # /' };
  const domains = lines(f.domains);
  if (!domains.length) return { field: 'domains', message: 'At least one domain, e.g. shop.example.com or *.example.com' };
  const rate = Number(f.sampleRate);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) return { field: 'sampleRate', message: 'A number from 0 to 1 (1 = every session)' };
  const cfg = {
    SessionSampleRate: rate,
    Telemetries: f.telemetries,
    EnableXRay: f.xray,
    AllowCookies: f.cookies,
    TraceHeaderAllowList: lines(f.allowList),
    IncludedPages: lines(f.included),
    ExcludedPages: lines(f.excluded),
  };
  return {
    ...(creating ? { Name: f.name } : {}),
    ...(domains.length === 1 ? { Domain: domains[0] } : { DomainList: domains }),
    AppMonitorConfiguration: cfg,
    CustomEvents: { Status: f.customEvents ? 'ENABLED' : 'DISABLED' },
  };
}

function MonitorForm({ initial, creating, onSaved }: { initial?: Monitor; creating: boolean; onSaved: (name: string) => void }) {
  const [f, setF] = useState(() => toForm(initial));
  const [err, setErr] = useState<{ field: string; message: string } | null>(null);
  const [apiErr, setApiErr] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof FormState) => (e: Event) => {
    const t = e.currentTarget as HTMLInputElement;
    setF({ ...f, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const input = toInput(f, creating);
    if ('field' in input) {
      setErr(input);
      return;
    }
    setErr(null);
    setApiErr(null);
    setBusy(true);
    try {
      if (creating) await createMonitor(input);
      else await updateMonitor(initial!.Name, input);
      onSaved(creating ? f.name : initial!.Name);
    } catch (x) {
      setApiErr(x as Error);
    } finally {
      setBusy(false);
    }
  };
  const fe = (k: string) => (err?.field === k ? err.message : undefined);
  return (
    <form class="form" onSubmit={submit} aria-label={creating ? 'New app monitor' : 'Edit app monitor'}>
      {creating && (
        <Field label="Name" hint="How the console and API refer to it (cannot be changed later)" error={fe('name')}>
          <input name="name" value={f.name} onInput={set('name')} required autoFocus />
        </Field>
      )}
      <Field label="Domains" hint="One per line; *.example.com for subdomains; add localhost to test locally" error={fe('domains')}>
        <textarea name="domains" rows={2} value={f.domains} onInput={set('domains')} />
      </Field>
      <Field label="Session sample rate" hint="0 to 1: the share of sessions recorded" error={fe('sampleRate')}>
        <input name="sampleRate" type="number" min="0" max="1" step="0.01" value={f.sampleRate} onInput={set('sampleRate')} />
      </Field>
      <fieldset class="field">
        <legend class="field-label">Telemetries</legend>
        {TELEMETRIES.map((t) => (
          <label class="check">
            <input
              type="checkbox"
              name={`telemetry-${t}`}
              checked={f.telemetries.includes(t)}
              onChange={(e) =>
                setF({ ...f, telemetries: e.currentTarget.checked ? [...f.telemetries, t] : f.telemetries.filter((x) => x !== t) })
              }
            />{' '}
            {t}
          </label>
        ))}
      </fieldset>
      <label class="check">
        <input type="checkbox" name="xray" checked={f.xray} onChange={set('xray')} /> X-Ray tracing (adds the trace header to allowed requests)
      </label>
      {f.xray && (
        <Field label="Trace header allow-list" hint="Origins or /regexp/ that may receive X-Amzn-Trace-Id, one per line; empty = same origin only">
          <textarea name="allowList" rows={2} value={f.allowList} onInput={set('allowList')} />
        </Field>
      )}
      <label class="check">
        <input type="checkbox" name="cookies" checked={f.cookies} onChange={set('cookies')} /> Allow cookies (sessions and users across page loads)
      </label>
      <label class="check">
        <input type="checkbox" name="customEvents" checked={f.customEvents} onChange={set('customEvents')} /> Accept custom events
      </label>
      <details>
        <summary>Page filters</summary>
        <Field label="Included pages" hint="URL patterns, one per line; empty = all">
          <textarea rows={2} value={f.included} onInput={set('included')} />
        </Field>
        <Field label="Excluded pages" hint="URL patterns, one per line">
          <textarea rows={2} value={f.excluded} onInput={set('excluded')} />
        </Field>
      </details>
      {apiErr && <ErrorBox error={apiErr} />}
      <div class="actions">
        <button class="btn primary" type="submit" disabled={busy}>
          {creating ? 'Create app monitor' : 'Save changes'}
        </button>
      </div>
    </form>
  );
}

export function NewMonitorPage() {
  const loc = useLoc();
  return (
    <>
      <PageTitle title="New app monitor" />
      <Card>
        <MonitorForm creating onSaved={(name) => navigate(href({ name: 'monitor', monitor: name }, loc.params, { created: '1' }))} />
      </Card>
    </>
  );
}

export function Snippets({ m }: { m: Monitor }) {
  const cfg = consoleConfig(document);
  const c = m.AppMonitorConfiguration ?? {};
  const base = collectorBase(cfg.ingestURL, location.hostname);
  const input = {
    appMonitorId: m.Id,
    ingestURL: base,
    agentIntegrity: cfg.agentIntegrity,
    sessionSampleRate: c.SessionSampleRate,
    telemetries: c.Telemetries,
    enableXRay: c.EnableXRay,
    allowCookies: c.AllowCookies,
    traceHeaderAllowList: c.TraceHeaderAllowList,
  };
  return (
    <div class="snippets">
      <p>
        Paste one of these into the <code>&lt;head&gt;</code> of every page of <strong>{m.DomainList?.join(', ') || m.Domain}</strong>. Data appears
        here within seconds of the first visit.
      </p>
      <CopyBlock label="Sightline agent (recommended, ~10 KB)" text={sightlineSnippet(input)} />
      {!cfg.agentIntegrity && <p class="muted small">This server did not announce the agent's SRI hash; the snippet loads the agent without an integrity attribute.</p>}
      <CopyBlock label={`aws-rum-web (signing off, endpoint ${base})`} text={rumWebSnippet(input)} />
      <p class="muted small">
        App monitor id <code class="mono">{m.Id}</code> · collector <code class="mono">{base}</code>
      </p>
    </div>
  );
}

export function MonitorPage({ name }: { name: string }) {
  const loc = useLoc();
  const q = useQuery('monitor:' + name, (s) => getMonitor(name, s));
  const [saved, setSaved] = useState(false);
  const [delErr, setDelErr] = useState<Error | null>(null);
  return (
    <>
      <PageTitle title={name}>
        <a class="btn" href={href({ name: 'rum', monitor: name, tab: 'overview' }, loc.params)}>
          Open dashboard
        </a>
      </PageTitle>
      <Async q={q} what="Loading app monitor">
        {(m) => (
          <div class="two-col">
            <Card title="Install">
              {loc.params.get('created') && <div class="notice">Created. Now install the snippet:</div>}
              <Snippets m={m} />
            </Card>
            <Card title="Settings">
              {saved && <div class="notice" role="status">Saved.</div>}
              <MonitorForm
                key={m.LastModified}
                initial={m}
                creating={false}
                onSaved={() => {
                  setSaved(true);
                  q.reload();
                }}
              />
              <hr />
              {delErr && <ErrorBox error={delErr} />}
              <button
                class="btn danger"
                onClick={async () => {
                  if (!confirm(`Delete app monitor ${name}? Its pages stop sending data.`)) return;
                  try {
                    await deleteMonitor(name);
                    navigate(href({ name: 'monitors' }, loc.params));
                  } catch (e) {
                    setDelErr(e as ApiError);
                  }
                }}
              >
                Delete app monitor
              </button>
            </Card>
          </div>
        )}
      </Async>
    </>
  );
}
