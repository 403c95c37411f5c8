import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { customRange, localInput, parseRange, PRESETS, REFRESH, writeRange } from '../lib/timerange';
import { href, withParams } from '../lib/urlstate';
import { setParams, useLoc } from './router';
import { useClock } from './data';

export function TimePicker() {
  const loc = useLoc();
  const { range } = useClock();
  const spec = parseRange(loc.params);
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState(localInput(range.from));
  const [to, setTo] = useState(localInput(range.to));
  const [err, setErr] = useState('');
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    setFrom(localInput(range.from));
    setTo(localInput(range.to));
    const close = (e: Event) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  const apply = (r: ReturnType<typeof parseRange>) => {
    const p = new URLSearchParams(loc.params);
    writeRange(p, r);
    setParams(p, { replace: false });
    setOpen(false);
  };
  return (
    <div class="timepicker" ref={ref}>
      <button class="btn" aria-haspopup="dialog" aria-expanded={open} onClick={() => setOpen(!open)} id="time-range">
        {range.label} ▾
      </button>
      {open && (
        <div class="popover" role="dialog" aria-label="Time range">
          <div class="presets">
            {PRESETS.map((p) => (
              <button class={`btn small ${'preset' in spec && spec.preset === p.key ? 'active' : ''}`} onClick={() => apply({ preset: p.key })}>
                {p.label}
              </button>
            ))}
          </div>
          <form
            class="custom"
            onSubmit={(e) => {
              e.preventDefault();
              const r = customRange(from, to);
              if (typeof r === 'string') setErr(r);
              else apply(r);
            }}
          >
            <label>
              From <input type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
            </label>
            <label>
              To <input type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
            </label>
            {err && <div class="field-error">{err}</div>}
            <button class="btn primary small" type="submit">
              Apply
            </button>
          </form>
        </div>
      )}
    </div>
  );
}

export function RefreshPicker({ onRefresh, loading }: { onRefresh: () => void; loading?: boolean }) {
  const loc = useLoc();
  return (
    <div class="refresh">
      <button class="btn" onClick={onRefresh} aria-label="Refresh now" title="Refresh now (r)">
        ↻
      </button>
      <select
        aria-label="Auto-refresh"
        value={loc.params.get('refresh') ?? ''}
        onChange={(e) => setParams(withParams(loc.params, { refresh: e.currentTarget.value }))}
      >
        {REFRESH.map((r) => (
          <option value={r.key}>{r.key ? `Every ${r.label}` : 'Auto-refresh off'}</option>
        ))}
      </select>
      {loading && <span class="spinner" aria-hidden="true" />}
    </div>
  );
}

export function ThemeToggle() {
  const [theme, setTheme] = useState(() => document.documentElement.dataset.theme || 'light');
  return (
    <button
      class="btn"
      aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
      onClick={() => {
        const t = theme === 'dark' ? 'light' : 'dark';
        document.documentElement.dataset.theme = t;
        try {
          localStorage.setItem('sightline-theme', t);
        } catch {
          /* private mode */
        }
        setTheme(t);
        dispatchEvent(new Event('sightline:theme'));
      }}
    >
      {theme === 'dark' ? '☀' : '☾'}
    </button>
  );
}

export function Nav() {
  const loc = useLoc();
  const r = loc.route;
  const item = (label: string, to: string, active: boolean) => (
    <a href={to} class={active ? 'active' : ''} aria-current={active ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <nav class="nav" aria-label="Main">
      <a class="brand" href={href({ name: 'home' }, loc.params)}>
        Sightline
      </a>
      {item('App monitors', href({ name: 'monitors' }, loc.params), r.name === 'monitors' || r.name === 'monitor' || r.name === 'monitor-new' || r.name === 'rum')}
      {item('Service map', href({ name: 'map' }, loc.params), r.name === 'map')}
      {item('Traces', href({ name: 'traces' }, loc.params), r.name === 'traces' || r.name === 'trace')}
    </nav>
  );
}

export function PageTitle({ title, children }: { title: ComponentChildren; children?: ComponentChildren }) {
  useEffect(() => {
    document.title = `${typeof title === 'string' ? title : 'Sightline'} · Sightline`;
  }, [title]);
  return (
    <div class="page-title">
      <h1>{title}</h1>
      {children}
    </div>
  );
}
