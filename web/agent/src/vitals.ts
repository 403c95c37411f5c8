// Core Web Vitals through Google's web-vitals (attribution build), reported under aws-rum-web's
// event names with its attribution field names.

import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals/attribution';

export const P = 'com.amazon.rum.';

type Rec = (type: string, details: Record<string, unknown>) => void;

/** web-vitals attribution field → aws-rum-web's name for it. */
const RENAME: Record<string, string> = { target: 'element', resourceLoadDuration: 'resourceLoadTime' };

/** Keeps the scalar attribution fields (entries and DOM nodes do not serialise) under aws-rum-web's names. */
export function attribution(a: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) if (v == null || typeof v != 'object') out[RENAME[k] || k] = v;
  return out;
}

export function observeVitals(rec: Rec): void {
  const on = (f: typeof onLCP, name: string) =>
    f(({ value, attribution: a }) => rec(name, { version: '1.0.0', value, attribution: attribution(a) }));
  on(onLCP, 'largest_contentful_paint_event');
  on(onCLS as unknown as typeof onLCP, 'cumulative_layout_shift_event');
  on(onINP as unknown as typeof onLCP, 'interaction_to_next_paint_event');
  on(onFCP as unknown as typeof onLCP, 'first_contentful_paint_event');
  on(onTTFB as unknown as typeof onLCP, 'time_to_first_byte_event');
}
