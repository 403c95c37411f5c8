import type { ComponentChildren, JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from '../lib/api';
import { fmtPct } from '../lib/format';
import { parseSort, toggleSort, withParams } from '../lib/urlstate';
import { setParams, useLoc } from './router';
import type { Query } from './data';

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <div class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> {what}…
    </div>
  );
}

export function ErrorBox({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  const type = error instanceof ApiError ? error.type : error.name;
  return (
    <div class="error-box" role="alert">
      <strong>{type || 'Error'}</strong>: {error.message}
      {onRetry && (
        <button class="btn small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <h3>{title}</h3>
      {children}
    </div>
  );
}

/** Renders a query's loading, error and empty states around its content. */
export function Async<T>({
  q,
  empty,
  children,
  what,
}: {
  q: Query<T>;
  empty?: (d: T) => ComponentChildren | null;
  children: (d: T) => ComponentChildren;
  what?: string;
}) {
  if (q.error && !(q.error instanceof DOMException)) return <ErrorBox error={q.error} onRetry={q.reload} />;
  if (q.data === undefined) return <Loading what={what} />;
  const e = empty?.(q.data);
  return (
    <div class={q.loading ? 'refreshing' : ''} aria-busy={q.loading}>
      {e ?? children(q.data)}
    </div>
  );
}

export function Stat({ label, value, sub, tone }: { label: string; value: ComponentChildren; sub?: ComponentChildren; tone?: string }) {
  return (
    <div class={`stat ${tone ?? ''}`} data-stat={label}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {sub && <div class="stat-sub">{sub}</div>}
    </div>
  );
}

/** Good / needs improvement / poor shares as one stacked bar. */
export function RatingBar({ good, ni, poor }: { good: number; ni: number; poor: number }) {
  const seg = (cls: string, v: number, label: string) =>
    v > 0 ? <span class={`seg ${cls}`} style={{ width: `${v * 100}%` }} title={`${label}: ${fmtPct(v)}`} /> : null;
  return (
    <div class="rating">
      <div class="rating-bar" role="img" aria-label={`good ${fmtPct(good)}, needs improvement ${fmtPct(ni)}, poor ${fmtPct(poor)}`}>
        {seg('good', good, 'Good')}
        {seg('ni', ni, 'Needs improvement')}
        {seg('poor', poor, 'Poor')}
      </div>
      <div class="rating-legend">
        <span class="good-t">{fmtPct(good, 0)} good</span> <span class="ni-t">{fmtPct(ni, 0)} NI</span> <span class="poor-t">{fmtPct(poor, 0)} poor</span>
      </div>
    </div>
  );
}

export interface Column<T> {
  key: string;
  label: string;
  value?: (r: T) => number | string; // sort value
  render: (r: T) => ComponentChildren;
  num?: boolean;
}

/** A table sorted by a URL parameter (so the sort survives reloads and links). */
export function Table<T>({ rows, cols, sortParam = 'sort', defaultSort, rowKey, onRow, label }: {
  rows: T[];
  cols: Column<T>[];
  sortParam?: string;
  defaultSort?: string;
  rowKey: (r: T) => string;
  onRow?: (r: T) => void;
  label: string;
}) {
  const loc = useLoc();
  const sort = parseSort(loc.params.get(sortParam), defaultSort ?? '');
  const col = cols.find((c) => c.key === sort.key && c.value);
  const sorted = col
    ? [...rows].sort((a, b) => {
        const x = col.value!(a);
        const y = col.value!(b);
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return sort.desc ? -c : c;
      })
    : rows;
  return (
    <table class="table" aria-label={label}>
      <thead>
        <tr>
          {cols.map((c) => (
            <th class={c.num ? 'num' : ''} aria-sort={sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : undefined}>
              {c.value ? (
                <button class="th-sort" onClick={() => setParams(withParams(loc.params, { [sortParam]: toggleSort(sort, c.key) }))}>
                  {c.label}
                  {sort.key === c.key ? (sort.desc ? ' ▼' : ' ▲') : ''}
                </button>
              ) : (
                c.label
              )}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {sorted.map((r) => (
          <tr key={rowKey(r)} class={onRow ? 'clickable' : ''} onClick={onRow ? () => onRow(r) : undefined}>
            {cols.map((c) => (
              <td class={c.num ? 'num' : ''}>{c.render(r)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function CopyBlock({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard API needs a secure context; fall back to a selection copy.
      const ta = document.createElement('textarea');
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <div class="copy-block">
      <div class="copy-head">
        <span>{label}</span>
        <button class="btn small" onClick={copy} aria-label={`Copy ${label}`}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre>
        <code>{text}</code>
      </pre>
    </div>
  );
}

export function Card({ title, children, actions, class: cls }: { title?: ComponentChildren; children: ComponentChildren; actions?: ComponentChildren; class?: string }) {
  return (
    <section class={`card ${cls ?? ''}`}>
      {(title || actions) && (
        <header class="card-head">
          {title && <h2>{title}</h2>}
          {actions}
        </header>
      )}
      {children}
    </section>
  );
}

export function StatusBadge({ s }: { s: 'ok' | 'error' | 'throttle' | 'fault' | string }) {
  return <span class={`badge ${s}`}>{s}</span>;
}

export function Field(props: { label: string; hint?: string; children: ComponentChildren; error?: string }) {
  return (
    <label class="field">
      <span class="field-label">{props.label}</span>
      {props.children}
      {props.hint && <span class="field-hint">{props.hint}</span>}
      {props.error && <span class="field-error">{props.error}</span>}
    </label>
  );
}

export type InputEvent = JSX.TargetedEvent<HTMLInputElement, Event>;
