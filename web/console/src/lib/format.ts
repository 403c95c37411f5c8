// Number and time formatting shared by every page. Pure functions: tested in test/format.test.ts.

/** Milliseconds as a short human duration: 850 ms, 1.25 s, 2 min 5 s. */
export function fmtMs(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '–';
  const a = Math.abs(ms);
  if (a < 1) return `${round(ms, 2)} ms`;
  if (a < 1000) return `${round(ms, a < 10 ? 1 : 0)} ms`;
  if (a < 60_000) return `${round(ms / 1000, a < 10_000 ? 2 : 1)} s`;
  const min = Math.floor(a / 60_000);
  const s = Math.round((a % 60_000) / 1000);
  if (min < 60) return `${ms < 0 ? '-' : ''}${min} min${s ? ` ${s} s` : ''}`;
  const h = Math.floor(min / 60);
  return `${ms < 0 ? '-' : ''}${h} h${min % 60 ? ` ${min % 60} min` : ''}`;
}

/** Seconds (X-Ray durations) as fmtMs does milliseconds. */
export function fmtSec(s: number | null | undefined): string {
  return s == null ? '–' : fmtMs(s * 1000);
}

/** Counts with thousands grouping below 100k, then k/M suffixes. */
export function fmtCount(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  if (a < 100_000) return Math.round(n).toLocaleString('en-US');
  if (a < 1e6) return `${round(n / 1e3, 1)}k`;
  if (a < 1e9) return `${round(n / 1e6, a < 1e7 ? 2 : 1)}M`;
  return `${round(n / 1e9, 2)}B`;
}

/** A share 0..1 as a percentage. */
export function fmtPct(share: number | null | undefined, digits = 1): string {
  if (share == null || !Number.isFinite(share)) return '–';
  return `${round(share * 100, digits)}%`;
}

export function fmtBytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${round(n / 1024, 1)} KiB`;
  return `${round(n / 1024 / 1024, 1)} MiB`;
}

/** A vital's value in its unit: CLS is unitless, the rest milliseconds. */
export function fmtVital(vital: string, v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return '–';
  return vital.toUpperCase() === 'CLS' ? String(round(v, 3)) : fmtMs(v);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Epoch ms as local "YYYY-MM-DD HH:MM:SS". */
export function fmtTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** How long before now, coarsely: "just now", "5 min ago", "3 h ago", "2 d ago". */
export function fmtAgo(ms: number, now: number): string {
  const d = now - ms;
  if (d < 45_000) return 'just now';
  if (d < 3_600_000) return `${Math.round(d / 60_000)} min ago`;
  if (d < 86_400_000) return `${Math.round(d / 3_600_000)} h ago`;
  return `${Math.round(d / 86_400_000)} d ago`;
}

export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
