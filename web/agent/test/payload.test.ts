import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createTransport, makeEvent } from '../src/transport';
import { httpEvent, RequestRecord, segment } from '../src/xray';
import { newTrace, xrayRoot } from '../src/ids';

// One event of each type from a batch aws-rum-web 3.2.1 really sent.
const golden = JSON.parse(readFileSync(new URL('../../testdata/aws-rum-web-3.2.1-batch.json', import.meta.url), 'utf8'));
const goldenEvent = (name: string) => golden.RumEvents.find((e: { type: string }) => e.type == 'com.amazon.rum.' + name);
const keys = (o: object) => Object.keys(o).sort();

function body(): Record<string, unknown> {
  let out = '';
  const t = createTransport({
    url: 'u',
    appMonitorId: '6f1d3c2a-8b4e-4f7a-9c1d-2e3f4a5b6c7d',
    appVersion: '1.2.3',
    send: async () => 200,
    beacon: (_u, b) => ((out = b), true),
    wait: async () => {},
    sessionMetadata: () => ({ browserLanguage: 'en-US', platformType: 'web', 'aws:client': 'sightline' }),
  });
  t.push(makeEvent('com.amazon.rum.page_view_event', { version: '1.0.0', pageId: '/x' }, { title: 'T', pageId: '/x' }, 1_795_559_747_876), {
    userId: '00000000-0000-0000-0000-000000000000',
    sessionId: 'c8c8357a-02bc-4b89-8c63-1e149c458bca',
  });
  t.beacon();
  return JSON.parse(out);
}

test('PutRumEvents body has the shape aws-rum-web 3.x sends', () => {
  const b = body();
  assert.deepEqual(keys(b), keys(golden).filter((k) => k != 'Alias'));
  assert.match(b.BatchId as string, /^[0-9a-f-]{36}$/);
  assert.deepEqual(b.AppMonitorDetails, { id: '6f1d3c2a-8b4e-4f7a-9c1d-2e3f4a5b6c7d', version: '1.2.3' });
  assert.deepEqual(keys(b.UserDetails as object), keys(golden.UserDetails));
  assert.equal(typeof b.SessionMetadata, 'string');
  assert.equal(JSON.parse(b.SessionMetadata as string)['aws:client'], 'sightline');
  const [e] = b.RumEvents as Record<string, unknown>[];
  assert.deepEqual(keys(e), keys(golden.RumEvents[0]));
  assert.equal(e.timestamp, 1795559747, 'integer epoch seconds');
  assert.ok(Number.isInteger(e.timestamp));
  assert.equal(typeof e.metadata, 'string');
  assert.equal(typeof e.details, 'string');
  assert.deepEqual(JSON.parse(e.details as string), { version: '1.0.0', pageId: '/x' });
});

function req(over: Partial<RequestRecord>): RequestRecord {
  return { method: 'GET', url: '/api/hello', host: '127.0.0.1', start: 1795559747276, end: 1795559747291, status: 200, statusText: 'OK', trace: newTrace(1795559747276), ...over };
}

test('xray_trace_event matches aws-rum-web field for field', () => {
  const want = JSON.parse(goldenEvent('xray_trace_event').details);
  const r = req({});
  const got = segment(r, 'rum.aws.amazon.com') as Record<string, any>;
  assert.deepEqual(keys(got), keys(want));
  assert.deepEqual(keys(got.subsegments[0]), keys(want.subsegments[0]));
  assert.deepEqual(got.subsegments[0].http, want.subsegments[0].http);
  assert.equal(got.origin, 'AWS::RUM::AppMonitor');
  assert.equal(got.trace_id, xrayRoot(r.trace!));
  assert.equal(got.subsegments[0].id, r.trace!.parent);
  assert.equal(got.id, r.trace!.segment);
  assert.equal(got.start_time, 1795559747.276);
  assert.equal(got.end_time, 1795559747.291);
  assert.equal(got.subsegments[0].namespace, 'remote');
  assert.equal(got.parent_id, undefined);
  assert.equal(got.http, undefined);
});

test('xray status flags: 429 throttle, 4xx error, 5xx fault, network failure fault + cause', () => {
  const cases: [number, string | null][] = [[200, null], [302, null], [404, 'error'], [429, 'throttle'], [500, 'fault'], [503, 'fault']];
  for (const [status, flag] of cases) {
    const s = segment(req({ status }), 'n') as Record<string, any>;
    for (const f of ['error', 'throttle', 'fault']) {
      assert.equal(s[f], f == flag ? true : undefined, `${status} ${f}`);
      assert.equal(s.subsegments[0][f], f == flag ? true : undefined, `${status} sub ${f}`);
    }
    assert.equal(s.subsegments[0].http.response.status, status);
  }
  const s = segment(req({ status: 0, error: { type: 'TypeError', message: 'Failed to fetch', stack: 'long' } }), 'n') as Record<string, any>;
  assert.equal(s.fault, true);
  assert.equal(s.subsegments[0].fault, true);
  assert.deepEqual(s.subsegments[0].cause, { exceptions: [{ type: 'TypeError', message: 'Failed to fetch' }] });
  assert.equal(s.subsegments[0].http.response, undefined);
});

test('aws namespace for amazonaws.com hosts; content_length when known', () => {
  const s = segment(req({ host: 'dynamodb.us-east-1.amazonaws.com', contentLength: 12 }), 'n') as Record<string, any>;
  assert.equal(s.subsegments[0].namespace, 'aws');
  assert.deepEqual(s.subsegments[0].http.response, { status: 200, content_length: 12 });
  assert.equal((segment(req({ host: 'notamazonaws.com' }), 'n') as any).subsegments[0].namespace, 'remote');
});

test('w3c-only tracing uses the bare 32-hex trace id, as aws-rum-web does', () => {
  const r = req({ w3c: true });
  assert.match((segment(r, 'n') as any).trace_id, /^[0-9a-f]{32}$/);
  assert.equal(httpEvent(r).trace_id, r.trace!.trace);
});

test('http_event carries request, response, trace and segment ids like aws-rum-web', () => {
  const want = JSON.parse(goldenEvent('http_event').details);
  const r = req({});
  const got = httpEvent(r);
  assert.deepEqual(keys(got).filter((k) => k != 'duration'), keys(want));
  assert.equal(got.duration, 15);
  assert.equal(got.segment_id, r.trace!.parent);
  assert.deepEqual(got.response, { status: 200, statusText: 'OK' });
  const failed = httpEvent(req({ status: 0, trace: undefined, error: { type: 'TypeError', message: 'Failed to fetch' } }));
  assert.equal(failed.response, undefined);
  assert.equal(failed.trace_id, undefined);
  assert.deepEqual(failed.error, { version: '1.0.0', type: 'TypeError', message: 'Failed to fetch' });
});
