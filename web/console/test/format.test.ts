import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmtAgo, fmtBytes, fmtCount, fmtMs, fmtPct, fmtSec, fmtVital } from '../src/lib/format';

test('fmtMs', () => {
  for (const [v, want] of [
    [null, '–'], [NaN, '–'], [0.456, '0.46 ms'], [4.56, '4.6 ms'], [850, '850 ms'], [1250, '1.25 s'], [12_345, '12.3 s'],
    [125_000, '2 min 5 s'], [120_000, '2 min'], [3_720_000, '1 h 2 min'],
  ] as const) assert.equal(fmtMs(v as number | null), want, String(v));
});

test('fmtSec, fmtCount, fmtPct, fmtBytes, fmtVital', () => {
  assert.equal(fmtSec(0.2), '200 ms');
  assert.equal(fmtCount(1234), '1,234');
  assert.equal(fmtCount(250_000), '250k');
  assert.equal(fmtCount(1_234_567), '1.23M');
  assert.equal(fmtPct(0.1234), '12.3%');
  assert.equal(fmtPct(undefined), '–');
  assert.equal(fmtBytes(2048), '2 KiB');
  assert.equal(fmtVital('CLS', 0.12345), '0.123');
  assert.equal(fmtVital('LCP', 2500), '2.5 s');
});

test('fmtAgo', () => {
  const now = 1_700_000_000_000;
  assert.equal(fmtAgo(now - 10_000, now), 'just now');
  assert.equal(fmtAgo(now - 5 * 60_000, now), '5 min ago');
  assert.equal(fmtAgo(now - 3 * 3_600_000, now), '3 h ago');
  assert.equal(fmtAgo(now - 2 * 86_400_000, now), '2 d ago');
});
