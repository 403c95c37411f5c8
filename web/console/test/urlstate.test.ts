import { test } from 'node:test';
import assert from 'node:assert/strict';
import { href, parseRoute, parseSort, routePath, rumFilters, toggleSort, withParams, type Route } from '../src/lib/urlstate';

test('routes round-trip through paths', () => {
  const routes: Route[] = [
    { name: 'home' },
    { name: 'monitors' },
    { name: 'monitor-new' },
    { name: 'monitor', monitor: 'my shop' },
    { name: 'rum', monitor: 'shop', tab: 'overview' },
    { name: 'rum', monitor: 'shop', tab: 'sessions', sub: 'a/b c' },
    { name: 'map' },
    { name: 'traces' },
    { name: 'trace', id: '1-5f84c7a1-0123456789abcdef01234567' },
  ];
  for (const r of routes) assert.deepEqual(parseRoute(routePath(r)), r, routePath(r));
});

test('unknown paths are not found', () => {
  for (const p of ['/nope', '/apps/shop/bogus', '/traces/a/b', '/monitors/a/b']) assert.equal(parseRoute(p).name, 'notfound', p);
  assert.deepEqual(parseRoute('/apps/shop'), { name: 'rum', monitor: 'shop', tab: 'overview' });
  assert.deepEqual(parseRoute('/monitors/%E0%A4'), { name: 'monitor', monitor: '%E0%A4' }, 'bad escapes kept as typed');
});

test('href keeps the time range and refresh, drops page-specific state', () => {
  const cur = new URLSearchParams('range=6h&refresh=30s&filter=fault&sort=-duration');
  assert.equal(href({ name: 'map' }, cur), '/service-map?range=6h&refresh=30s');
  assert.equal(href({ name: 'traces' }, cur, { filter: 'service("a")' }), '/traces?range=6h&refresh=30s&filter=service%28%22a%22%29');
  assert.equal(href({ name: 'monitors' }, new URLSearchParams()), '/monitors');
});

test('withParams sets and deletes', () => {
  const p = withParams(new URLSearchParams('a=1&b=2'), { a: '', b: '3', c: 'x', d: undefined });
  assert.equal(p.toString(), 'b=3&c=x');
});

test('rumFilters maps URL parameters to the API Filters object', () => {
  assert.equal(rumFilters(new URLSearchParams('')), undefined);
  assert.deepEqual(rumFilters(new URLSearchParams('page=/cart&page=/home&browser=Chrome, Firefox&device=mobile&other=1')), {
    Page: ['/cart', '/home'],
    Browser: ['Chrome', 'Firefox'],
    DeviceType: ['mobile'],
  });
});

test('sort state', () => {
  assert.deepEqual(parseSort(null, '-count'), { key: 'count', desc: true });
  assert.deepEqual(parseSort('p75', '-count'), { key: 'p75', desc: false });
  assert.equal(toggleSort({ key: 'count', desc: true }, 'count'), 'count');
  assert.equal(toggleSort({ key: 'count', desc: false }, 'count'), '-count');
  assert.equal(toggleSort({ key: 'count', desc: false }, 'p75'), '-p75');
});
