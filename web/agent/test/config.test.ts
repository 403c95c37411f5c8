import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, ingestUrl, mergeConfig, pageAllowed, pageId, remoteConfigUrl, remoteFields } from '../src/config';

test('remote config overrides only the fields it has', () => {
  const snippet = mergeConfig(DEFAULTS, { appMonitorId: 'app', endpoint: 'https://c.example.com/p/', sessionSampleRate: 0.2, enableXRay: true, traceHeaderAllowList: ['https://api.example.com'] });
  const remote = remoteFields({ sessionSampleRate: 0.5, telemetries: ['errors'], endpoint: 'https://attacker.example', appMonitorId: 'x', allowCookies: 'yes', unknown: 1, excludedPages: null });
  assert.deepEqual(remote, { sessionSampleRate: 0.5, telemetries: ['errors'] });
  const c = mergeConfig(snippet, remote);
  assert.equal(c.sessionSampleRate, 0.5);
  assert.deepEqual(c.telemetries, ['errors']);
  assert.equal(c.enableXRay, true);
  assert.deepEqual(c.traceHeaderAllowList, ['https://api.example.com']);
  assert.equal(c.endpoint, 'https://c.example.com/p');
  assert.equal(c.appMonitorId, 'app');
  assert.equal(ingestUrl(c), 'https://c.example.com/p/appmonitors/app');
  assert.equal(remoteConfigUrl(c), 'https://c.example.com/p/appmonitors/app/config');
  // Merging never mutates the layers.
  assert.equal(snippet.sessionSampleRate, 0.2);
  assert.deepEqual(DEFAULTS.telemetries, ['errors', 'performance', 'http']);
});

test('the full remote document is accepted', () => {
  const doc = { sessionSampleRate: 0.5, telemetries: ['errors', 'performance', 'http'], includedPages: ['^https://shop'], excludedPages: ['/admin'], enableXRay: true, traceHeaderAllowList: ['https://api.example.com'], allowCookies: false };
  assert.deepEqual(remoteFields(doc), doc);
  for (const junk of [null, 'x', 42, [], { sessionSampleRate: '1' }]) assert.deepEqual(remoteFields(junk), {});
});

test('an out-of-range sample rate falls back to 1', () => {
  for (const r of [-1, 2, NaN]) assert.equal(mergeConfig(DEFAULTS, { sessionSampleRate: r }).sessionSampleRate, 1);
  assert.equal(mergeConfig(DEFAULTS, { sessionSampleRate: 0 }).sessionSampleRate, 0);
});

test('URL to page id', () => {
  const u = new URL('https://shop.example.com/cart/items?id=3#/step/2');
  assert.equal(pageId(u, 'PATH'), '/cart/items');
  assert.equal(pageId(u, 'HASH'), '#/step/2');
  assert.equal(pageId(u, 'PATH_AND_HASH'), '/cart/items#/step/2');
  assert.equal(pageId(new URL('https://shop.example.com'), 'PATH'), '/');
});

test('page inclusion and exclusion', () => {
  const c = mergeConfig(DEFAULTS, { includedPages: ['^https://shop\\.example\\.com/'], excludedPages: ['/admin', /secret/, '(bad regex'] });
  assert.equal(pageAllowed(c, 'https://shop.example.com/cart'), true);
  assert.equal(pageAllowed(c, 'https://other.example.com/cart'), false);
  assert.equal(pageAllowed(c, 'https://shop.example.com/admin/users'), false);
  assert.equal(pageAllowed(c, 'https://shop.example.com/secret'), false);
  assert.equal(pageAllowed(DEFAULTS, 'https://anything/'), true);
});
