import { calls, routes, beacons } from './browser-env';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAgent } from '../src/agent';

const EP = 'https://collector.example.com';
const APP = '6f1d3c2a-8b4e-4f7a-9c1d-2e3f4a5b6c7d';

test('an unsampled session sends nothing and adds no trace headers', async () => {
  // The remote config fails: the snippet's sample rate of 0 holds.
  routes[`${EP}/appmonitors/${APP}/config`] = async () => new Response('nope', { status: 500 });
  const agent = createAgent({ appMonitorId: APP, endpoint: EP, enableXRay: true, sessionSampleRate: 0 });
  await new Promise((r) => setTimeout(r, 5));
  agent.recordEvent('my_app.x', {});
  await fetch('/api/same');
  assert.equal(new Headers(calls.at(-1)!.init?.headers).get('x-amzn-trace-id'), null);
  await agent.flush();
  (document as any).visibilityState = 'hidden';
  document.dispatchEvent(new Event('visibilitychange'));
  assert.deepEqual(calls.map((c) => c.url), [`${EP}/appmonitors/${APP}/config`, '/api/same']);
  assert.equal(beacons.length, 0);
  assert.equal(agent.stats().sampled, false);
  assert.match(agent.stats().sessionId, /^[0-9a-f-]{36}$/);
});
