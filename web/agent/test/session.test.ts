import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, sampled, Store, touch } from '../src/session';
import { uuid } from '../src/ids';

const MIN = 60_000;
const TIMEOUT = 30 * MIN;

function memStore(): Store & { v: string | null; writes: number } {
  const s = {
    v: null as string | null,
    writes: 0,
    get: () => s.v,
    set: (v: string | null) => {
      s.v = v;
      s.writes++;
    },
  };
  return s;
}

test('sampling is a stable function of the session id', () => {
  const ids = Array.from({ length: 2000 }, uuid);
  for (const id of ids.slice(0, 50)) {
    const first = sampled(id, 0.5);
    for (let i = 0; i < 5; i++) assert.equal(sampled(id, 0.5), first);
  }
  assert.ok(ids.every((id) => sampled(id, 1)));
  assert.ok(ids.every((id) => !sampled(id, 0)));
  assert.equal(sampled('ffffffff-ffff-4fff-bfff-ffffffffffff', 1), true);
  const rate = ids.filter((id) => sampled(id, 0.25)).length / ids.length;
  assert.ok(rate > 0.2 && rate < 0.3, `rate ${rate}`);
  // Monotonic: a session sampled at a lower rate is sampled at every higher rate.
  for (const id of ids) if (sampled(id, 0.3)) assert.ok(sampled(id, 0.6));
});

test('a session survives activity and expires after 30 min idle', () => {
  const st = memStore();
  let n = 0;
  const ids = () => `0000000${n++}-0000-4000-8000-000000000000`;
  const t0 = 1_700_000_000_000;
  let r = touch(st, t0, TIMEOUT, ids);
  assert.equal(r.isNew, true);
  const first = r.s.id;
  // Activity every 29 minutes keeps it alive for hours.
  for (let t = t0 + 29 * MIN; t < t0 + 5 * 60 * MIN; t += 29 * MIN) {
    r = touch(st, t, TIMEOUT, ids);
    assert.equal(r.isNew, false);
    assert.equal(r.s.id, first);
  }
  const last = r.s.last;
  r = touch(st, last + TIMEOUT - 1, TIMEOUT, ids);
  assert.equal(r.isNew, false);
  r = touch(st, r.s.last + TIMEOUT, TIMEOUT, ids);
  assert.equal(r.isNew, true);
  assert.notEqual(r.s.id, first);
});

test('a clock that jumps back far starts a new session; writes are throttled', () => {
  const st = memStore();
  const t0 = 1_700_000_000_000;
  const a = touch(st, t0, TIMEOUT).s.id;
  const w = st.writes;
  touch(st, t0 + 10, TIMEOUT);
  touch(st, t0 + 500, TIMEOUT);
  assert.equal(st.writes, w);
  touch(st, t0 + 1500, TIMEOUT);
  assert.equal(st.writes, w + 1);
  assert.notEqual(touch(st, t0 - 2 * TIMEOUT, TIMEOUT).s.id, a);
});

test('stored session state round-trips and garbage is ignored', () => {
  const s = { id: uuid(), last: 1700000000123 };
  assert.deepEqual(decode(encode(s)), s);
  for (const bad of [null, '', 'x:1', `${s.id}`, `${s.id}:abc`, `${s.id}:1;evil`]) assert.equal(decode(bad), null, String(bad));
  const st = memStore();
  st.v = 'garbage';
  assert.equal(touch(st, 1, TIMEOUT).isNew, true);
});
