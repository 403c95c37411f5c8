import { calls, routes, beacons } from './browser-env';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { createAgent } from '../src/agent';

const EP = 'https://collector.example.com';
const APP = '6f1d3c2a-8b4e-4f7a-9c1d-2e3f4a5b6c7d';
const tick = () => new Promise((r) => setTimeout(r, 5));
const header = (c: { init?: RequestInit }, name: string) => new Headers(c.init?.headers).get(name);

test('agent end to end in a fake browser', async () => {
  let releaseConfig!: () => void;
  routes[`${EP}/appmonitors/${APP}/config`] = () =>
    new Promise((r) => (releaseConfig = () => r(Response.json({ traceHeader: 'both', sessionSampleRate: 1, endpoint: 'https://evil.example' }))));
  const posts: string[] = [];
  routes[`${EP}/appmonitors/${APP}`] = async (c) => {
    const b = c.init!.body as string | Uint8Array;
    const gz = header(c, 'content-encoding') == 'gzip';
    assert.equal(gz, typeof b != 'string');
    posts.push(gz ? gunzipSync(b as Uint8Array).toString() : (b as string));
    return new Response(null, { status: 202 });
  };
  routes['https://api.example.com/down'] = () => Promise.reject(new TypeError('Failed to fetch'));

  const agent = createAgent({ appMonitorId: APP, endpoint: EP + '/', enableXRay: true, traceHeaderAllowList: ['https://api.example.com'], appVersion: '2.0.0' });
  agent.addSessionAttributes({ plan: 'pro' });
  agent.recordEvent('my_app.early', { n: 1 });

  // Before the remote config: recorded (buffered) but no trace header.
  await fetch('/api/early');
  assert.equal(header(calls.at(-1)!, 'x-amzn-trace-id'), null);

  releaseConfig();
  await tick();
  assert.equal(agent.stats().sampled, true);

  await fetch('/api/same');
  const same = calls.at(-1)!;
  const xh = header(same, 'x-amzn-trace-id')!;
  assert.match(xh, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=([0-9a-f]{16});Sampled=1$/);
  const parent = xh.split('Parent=')[1].split(';')[0];
  assert.equal(header(same, 'traceparent'), `00-${xh.slice(7, 15)}${xh.slice(16, 40)}-${parent}-01`);

  await fetch('https://api.example.com/v1', { headers: { 'x-app': '1' } });
  assert.notEqual(header(calls.at(-1)!, 'x-amzn-trace-id'), null);
  assert.equal(header(calls.at(-1)!, 'x-app'), '1', 'the app headers are kept');
  await fetch('https://other.example.com/v1');
  assert.equal(header(calls.at(-1)!, 'x-amzn-trace-id'), null, 'never to other origins');
  assert.equal(header(calls.at(-1)!, 'traceparent'), null);
  await assert.rejects(fetch('https://api.example.com/down'));

  history.pushState({}, '', '/checkout');
  (globalThis as any).dispatchEvent(new (globalThis as any).ErrorEvent('error', { message: 'boom', error: new RangeError('boom'), filename: 'app.js', lineno: 1, colno: 2 }));
  agent.setUser('user-42');
  agent.recordEvent('my_app.late', { n: 2 });

  await agent.flush();
  // setUser changes UserDetails: events before and after it travel in separate batches.
  assert.equal(posts.length, 2);
  const bodies = posts.map((p) => JSON.parse(p));
  assert.equal(bodies[0].UserDetails.userId, '00000000-0000-0000-0000-000000000000');
  assert.equal(bodies[0].UserDetails.sessionId, bodies[1].UserDetails.sessionId);
  const body = { ...bodies[1], RumEvents: bodies.flatMap((b) => b.RumEvents) };
  assert.equal(body.AppMonitorDetails.version, '2.0.0');
  const types = body.RumEvents.map((e: { type: string }) => e.type);
  assert.equal(types[0], 'com.amazon.rum.session_start_event');
  assert.equal(types[1], 'com.amazon.rum.page_view_event');
  assert.ok(types.includes('my_app.early'), 'events recorded before the config are kept');
  assert.ok(types.includes('my_app.late'));
  const details = (type: string) => body.RumEvents.filter((e: { type: string }) => e.type == type).map((e: { details: string }) => JSON.parse(e.details));
  const xrays = details('com.amazon.rum.xray_trace_event');
  assert.equal(xrays.length, 3, 'same-origin, allowed cross-origin, failed allowed cross-origin');
  assert.equal(xrays[0].subsegments[0].id, parent, 'the header Parent is the client subsegment');
  assert.equal(xrays[0].subsegments[0].http.request.url, '/api/same');
  assert.equal(xrays[2].fault, true);
  const https = details('com.amazon.rum.http_event');
  assert.equal(https.length, 5);
  assert.ok(!https.some((d: any) => d.request.url.includes('collector')), 'own requests are not recorded');
  assert.deepEqual(details('com.amazon.rum.sightline.cors_suspect'), [
    { origin: 'https://api.example.com', url: 'https://api.example.com/down', header: 'X-Amzn-Trace-Id,traceparent' },
  ]);
  const pv = details('com.amazon.rum.page_view_event');
  assert.deepEqual(pv.map((d: any) => [d.pageId, d.interaction, d.parentPageInteractionId]), [['/cart', 0, undefined], ['/checkout', 1, '/cart-0']]);
  const [err] = details('com.amazon.rum.js_error_event');
  assert.equal(err.type, 'RangeError');
  assert.equal(err.message, 'boom');
  const sm = JSON.parse(body.SessionMetadata);
  assert.equal(sm.plan, 'pro');
  assert.equal(sm['aws:client'], 'sightline');
  assert.equal(sm.browserName, 'Chrome');
  assert.equal(body.UserDetails.userId, 'user-42');
  assert.match(body.UserDetails.sessionId, /^[0-9a-f-]{36}$/);
  assert.equal(sessionStorage.getItem('sl_s')!.split(':')[0], body.UserDetails.sessionId);

  // Page hide flushes by beacon.
  agent.recordEvent('my_app.bye', {});
  (document as any).visibilityState = 'hidden';
  document.dispatchEvent(new Event('visibilitychange'));
  assert.equal(beacons.length, 1);
  assert.equal(JSON.parse(beacons[0]).RumEvents[0].type, 'my_app.bye');
});
