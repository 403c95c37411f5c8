import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { createTransport, gzip, makeEvent, RumEvent, TransportOptions, UserDetails } from '../src/transport';

const U1: UserDetails = { userId: '00000000-0000-0000-0000-000000000000', sessionId: 's1' };
const U2: UserDetails = { userId: '00000000-0000-0000-0000-000000000000', sessionId: 's2' };

interface Sent {
  body: string;
  headers: Record<string, string>;
}

/** A fake server answering from a script of statuses (0 = network failure), and a fake clock. */
function harness(statuses: number[], opts: Partial<TransportOptions> = {}) {
  const sent: Sent[] = [];
  const beacons: string[] = [];
  const waits: number[] = [];
  const t = createTransport({
    url: 'https://c.example.com/appmonitors/app',
    appMonitorId: 'app',
    appVersion: '1.2.3',
    send: async (_url, body, headers) => {
      let text = '{}';
      try {
        text = typeof body == 'string' ? body : gunzipSync(body).toString();
      } catch {
        /* a fake compressor's output */
      }
      sent.push({ body: text, headers });
      const s = statuses.length ? statuses.shift()! : 200;
      if (!s) throw new TypeError('Failed to fetch');
      return s;
    },
    beacon: (_url, body) => {
      beacons.push(body);
      return true;
    },
    wait: async (ms) => {
      waits.push(ms);
    },
    sessionMetadata: () => ({ platformType: 'web', 'aws:client': 'sightline' }),
    ...opts,
  });
  const batchIds = () => sent.map((s) => JSON.parse(s.body).BatchId);
  return { t, sent, beacons, waits, batchIds };
}

const ev = (i: number): RumEvent => makeEvent('com.amazon.rum.custom', { i }, { pageId: '/' }, 1_700_000_000_999);

test('batches hold at most 100 events', async () => {
  const h = harness([]);
  for (let i = 0; i < 250; i++) h.t.push(ev(i), U1);
  await h.t.flush();
  assert.deepEqual(h.sent.map((s) => JSON.parse(s.body).RumEvents.length), [100, 100, 50]);
  assert.equal(new Set(h.batchIds()).size, 3);
  assert.equal(h.t.queue.length, 0);
});

test('a batch never mixes sessions', async () => {
  const h = harness([]);
  h.t.push(ev(1), U1);
  h.t.push(ev(2), U1);
  h.t.push(ev(3), U2);
  await h.t.flush();
  assert.deepEqual(h.sent.map((s) => [JSON.parse(s.body).UserDetails.sessionId, JSON.parse(s.body).RumEvents.length]), [['s1', 2], ['s2', 1]]);
});

for (const failure of [500, 503, 429, 0]) {
  test(`status ${failure || 'network error'}: retried after 2 s and 4 s with the same BatchId, then dropped`, async () => {
    const h = harness([failure, failure, failure, 200]);
    h.t.push(ev(1), U1);
    await h.t.flush();
    assert.equal(h.sent.length, 3);
    assert.deepEqual(h.waits, [2000, 4000]);
    assert.equal(new Set(h.batchIds()).size, 1);
    assert.equal(h.sent[0].body, h.sent[2].body);
    assert.equal(h.t.dropped, 1);
    assert.equal(h.t.stopped, false);
    // The next batch goes out normally.
    h.t.push(ev(2), U1);
    await h.t.flush();
    assert.equal(h.sent.length, 4);
    assert.notEqual(h.batchIds()[3], h.batchIds()[0]);
  });
}

test('a retry that succeeds delivers once more and stops retrying', async () => {
  const h = harness([503, 200]);
  h.t.push(ev(1), U1);
  await h.t.flush();
  assert.equal(h.sent.length, 2);
  assert.deepEqual(h.waits, [2000]);
  assert.equal(h.t.dropped, 0);
});

for (const refused of [403, 404]) {
  test(`status ${refused} stops all sending`, async () => {
    const h = harness([refused]);
    for (let i = 0; i < 150; i++) h.t.push(ev(i), U1);
    await h.t.flush();
    assert.equal(h.sent.length, 1);
    assert.equal(h.t.stopped, true);
    assert.equal(h.t.dropped, 150);
    h.t.push(ev(1), U1);
    await h.t.flush();
    h.t.beacon();
    assert.equal(h.sent.length, 1);
    assert.equal(h.beacons.length, 0);
  });
}

test('status 400 drops the batch without retry; later batches are sent', async () => {
  const h = harness([400]);
  for (let i = 0; i < 101; i++) h.t.push(ev(i), U1);
  await h.t.flush();
  assert.equal(h.sent.length, 2);
  assert.deepEqual(h.waits, []);
  assert.equal(h.t.dropped, 100);
});

test('the queue is bounded: oldest events are dropped and counted', () => {
  const h = harness([], { queueLimit: 10 });
  for (let i = 0; i < 15; i++) h.t.push(ev(i), U1);
  assert.equal(h.t.queue.length, 10);
  assert.equal(h.t.dropped, 5);
  assert.deepEqual(JSON.parse(h.t.queue[0][0].details), { i: 5 });
});

test('gzip only at >= 2048 chars and only when it saves >= 20%', async () => {
  const h = harness([], { gzip });
  h.t.push(ev(1), U1);
  await h.t.flush();
  assert.equal(h.sent[0].headers['Content-Encoding'], undefined);
  assert.equal(h.sent[0].headers['Content-Type'], 'application/json');
  for (let i = 0; i < 40; i++) h.t.push(ev(i), U1);
  await h.t.flush();
  assert.equal(h.sent[1].headers['Content-Encoding'], 'gzip');
  assert.ok(JSON.parse(h.sent[1].body).RumEvents.length == 40);

  // The 20% rule, with a fake compressor of known output size.
  for (const [ratio, want] of [[0.85, undefined], [0.8, 'gzip']] as const) {
    const h2 = harness([], { gzip: async (json) => new Uint8Array(Math.floor(json.length * ratio)) });
    for (let i = 0; i < 40; i++) h2.t.push(ev(i), U1);
    await h2.t.flush();
    assert.equal(h2.sent[0].headers['Content-Encoding'], want, String(ratio));
  }
});

test('page hide: the batch under retry and the queue go by beacon, never gzipped', async () => {
  let release!: () => void;
  const h = harness([503], {
    gzip,
    wait: (ms) => {
      h.waits.push(ms);
      return new Promise<void>((r) => (release = r));
    },
  });
  for (let i = 0; i < 40; i++) h.t.push(ev(i), U1);
  const flushing = h.t.flush();
  while (!h.waits.length) await new Promise((r) => setTimeout(r, 1)); // first attempt failed, now waiting 2 s
  assert.equal(h.sent.length, 1);
  for (let i = 0; i < 120; i++) h.t.push(ev(i), U1);
  h.t.beacon();
  assert.equal(h.beacons.length, 3);
  assert.equal(JSON.parse(h.beacons[0]).BatchId, h.batchIds()[0]);
  assert.deepEqual(h.beacons.map((b) => JSON.parse(b).RumEvents.length), [40, 100, 20]);
  release();
  await flushing;
  assert.equal(h.sent.length, 1, 'the beacon took over: no more retries');
});

test('a beacon refused for size is split in halves', () => {
  const got: number[] = [];
  const h = harness([], {
    beacon: (_u, body) => {
      const n = JSON.parse(body).RumEvents.length;
      if (n > 30) return false;
      got.push(n);
      return true;
    },
  });
  for (let i = 0; i < 100; i++) h.t.push(ev(i), U1);
  h.t.beacon();
  assert.equal(got.reduce((a, b) => a + b, 0), 100);
  assert.ok(got.every((n) => n <= 30));
});

test('concurrent flushes do not send a batch twice', async () => {
  const h = harness([]);
  for (let i = 0; i < 5; i++) h.t.push(ev(i), U1);
  await Promise.all([h.t.flush(), h.t.flush(), h.t.flush()]);
  assert.equal(h.sent.length, 1);
});
