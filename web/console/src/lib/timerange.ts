// Time ranges: presets relative to now ("1h") or absolute custom ranges. The URL keeps the
// preset name (so a deep link stays "the last hour") or from/to epoch ms.

export interface Preset {
  key: string;
  label: string;
  ms: number;
}

export const PRESETS: Preset[] = [
  { key: '15m', label: 'Last 15 minutes', ms: 15 * 60_000 },
  { key: '1h', label: 'Last hour', ms: 3_600_000 },
  { key: '6h', label: 'Last 6 hours', ms: 6 * 3_600_000 },
  { key: '24h', label: 'Last 24 hours', ms: 24 * 3_600_000 },
  { key: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { key: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
];

export const DEFAULT_PRESET = '1h';

/** A range as the URL holds it: a preset key, or an absolute from/to. */
export type RangeSpec = { preset: string } | { from: number; to: number };

export interface Resolved {
  from: number; // epoch ms, inclusive
  to: number; // epoch ms, exclusive
  label: string;
}

/** Reads range=, from=, to= from URL parameters; unknown or broken values fall back to the default. */
export function parseRange(p: URLSearchParams): RangeSpec {
  const from = Number(p.get('from'));
  const to = Number(p.get('to'));
  if (p.has('from') && p.has('to') && Number.isFinite(from) && Number.isFinite(to) && to > from && from >= 0) {
    return { from, to };
  }
  const key = p.get('range');
  if (key && PRESETS.some((x) => x.key === key)) return { preset: key };
  return { preset: DEFAULT_PRESET };
}

/** Writes a range into URL parameters, clearing the other form. */
export function writeRange(p: URLSearchParams, r: RangeSpec): void {
  p.delete('range');
  p.delete('from');
  p.delete('to');
  if ('preset' in r) {
    if (r.preset !== DEFAULT_PRESET) p.set('range', r.preset);
  } else {
    p.set('from', String(Math.round(r.from)));
    p.set('to', String(Math.round(r.to)));
  }
}

export function resolveRange(r: RangeSpec, now: number): Resolved {
  if ('preset' in r) {
    const p = PRESETS.find((x) => x.key === r.preset) ?? PRESETS[1];
    return { from: now - p.ms, to: now, label: p.label };
  }
  return { from: r.from, to: r.to, label: `${localInput(r.from).replace('T', ' ')} → ${localInput(r.to).replace('T', ' ')}` };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Epoch ms as the value of an <input type="datetime-local"> (local time, minutes). */
export function localInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Parses a datetime-local value; NaN when empty or malformed. */
export function parseLocalInput(v: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(v);
  if (!m) return NaN;
  return new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0).getTime();
}

/** A custom range from two datetime-local values, or an error message for the form. */
export function customRange(fromInput: string, toInput: string): RangeSpec | string {
  const from = parseLocalInput(fromInput);
  const to = parseLocalInput(toInput);
  if (Number.isNaN(from)) return 'Start is not a date and time';
  if (Number.isNaN(to)) return 'End is not a date and time';
  if (to <= from) return 'End must be after start';
  return { from, to };
}

/** Zooms to a sub-range chosen on a chart (seconds from uPlot) as an absolute range. */
export function zoomTo(fromSec: number, toSec: number): RangeSpec {
  return { from: Math.floor(fromSec * 1000), to: Math.ceil(toSec * 1000) };
}

export const REFRESH = [
  { key: '', label: 'Off', ms: 0 },
  { key: '10s', label: '10 s', ms: 10_000 },
  { key: '30s', label: '30 s', ms: 30_000 },
  { key: '1m', label: '1 min', ms: 60_000 },
  { key: '5m', label: '5 min', ms: 300_000 },
];

export function refreshMs(key: string | null): number {
  return REFRESH.find((r) => r.key === key)?.ms ?? 0;
}
