import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customRange, localInput, parseLocalInput, parseRange, refreshMs, resolveRange, writeRange, zoomTo } from '../src/lib/timerange';

test('parseRange reads presets and absolute ranges, falls back on junk', () => {
  const p = (s: string) => parseRange(new URLSearchParams(s));
  assert.deepEqual(p(''), { preset: '1h' });
  assert.deepEqual(p('range=7d'), { preset: '7d' });
  assert.deepEqual(p('range=13x'), { preset: '1h' });
  assert.deepEqual(p('from=1000&to=2000'), { from: 1000, to: 2000 });
  assert.deepEqual(p('from=2000&to=1000'), { preset: '1h' }, 'reversed');
  assert.deepEqual(p('from=abc&to=2000&range=6h'), { preset: '6h' });
});

test('writeRange round-trips and clears the other form', () => {
  const q = new URLSearchParams('range=6h&filter=x');
  writeRange(q, { from: 10, to: 20 });
  assert.equal(q.toString(), 'filter=x&from=10&to=20');
  writeRange(q, { preset: '24h' });
  assert.equal(q.toString(), 'filter=x&range=24h');
  writeRange(q, { preset: '1h' });
  assert.equal(q.toString(), 'filter=x', 'default preset leaves the URL clean');
  for (const spec of [{ preset: '15m' }, { from: 5, to: 99 }]) {
    const p = new URLSearchParams();
    writeRange(p, spec);
    assert.deepEqual(parseRange(p), spec);
  }
});

test('resolveRange', () => {
  const now = 1_700_000_000_000;
  assert.deepEqual(resolveRange({ preset: '15m' }, now), { from: now - 900_000, to: now, label: 'Last 15 minutes' });
  const r = resolveRange({ from: now - 10, to: now }, now);
  assert.equal(r.from, now - 10);
  assert.match(r.label, /→/);
});

test('local inputs and custom ranges', () => {
  const t = new Date(2026, 2, 4, 5, 6).getTime();
  assert.equal(localInput(t), '2026-03-04T05:06');
  assert.equal(parseLocalInput('2026-03-04T05:06'), t);
  assert.ok(Number.isNaN(parseLocalInput('yesterday')));
  assert.equal(customRange('2026-03-04T05:06', '2026-03-04T05:06'), 'End must be after start');
  assert.equal(customRange('x', '2026-03-04T05:06'), 'Start is not a date and time');
  assert.deepEqual(customRange('2026-03-04T05:06', '2026-03-04T06:06'), { from: t, to: t + 3_600_000 });
  assert.deepEqual(zoomTo(1.2345, 2.5), { from: 1234, to: 2500 });
  assert.equal(refreshMs('30s'), 30_000);
  assert.equal(refreshMs(null), 0);
  assert.equal(refreshMs('bogus'), 0);
});
