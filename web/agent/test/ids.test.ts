import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hex, newTrace, traceparent, uuid, xrayHeader, xrayRoot } from '../src/ids';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('hex returns n lowercase hex digits', () => {
  for (const n of [1, 16, 24, 31]) assert.match(hex(n), new RegExp(`^[0-9a-f]{${n}}$`));
});

test('uuid is a v4 UUID, also without crypto.randomUUID', () => {
  assert.match(uuid(), UUID);
  const orig = crypto.randomUUID;
  Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true, writable: true });
  try {
    const ids = new Set(Array.from({ length: 200 }, uuid));
    assert.equal(ids.size, 200);
    for (const id of ids) assert.match(id, UUID);
  } finally {
    Object.defineProperty(crypto, 'randomUUID', { value: orig, configurable: true, writable: true });
  }
});

test('trace ids carry the epoch second and match both header grammars', () => {
  const now = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const t = newTrace(now);
  assert.equal(t.trace.slice(0, 8), Math.floor(now / 1000).toString(16));
  assert.match(xrayRoot(t), /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  const h = xrayHeader(t);
  assert.match(h, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/);
  assert.ok(h.includes(`Parent=${t.parent}`));
  const tp = traceparent(t);
  assert.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  // Both headers name the same trace and the same parent, so either can be correlated with the segment.
  assert.equal(tp, `00-${t.trace}-${t.parent}-01`);
  assert.equal(xrayRoot(t).replace(/-/g, '').slice(1), t.trace);
  assert.notEqual(t.segment, t.parent);
});

test('epoch part is 8 digits even for small timestamps', () => {
  assert.equal(newTrace(1000).trace.slice(0, 8), '00000001');
});
