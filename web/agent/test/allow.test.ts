import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOwn, sameOrigin, traceAllowed } from '../src/allow';

const page = 'https://shop.example.com/cart?x=1';

test('trace header allow-list decisions', () => {
  const allow = ['https://api.example.com/ignored/path', /^https:\/\/cdn\.example\.net\/api\//];
  const cases: [string, boolean][] = [
    ['/api/orders', true], // relative = same origin
    ['https://shop.example.com/api', true],
    ['//shop.example.com/api', true],
    ['http://shop.example.com/api', false], // other scheme = other origin
    ['https://shop.example.com:8443/api', false], // other port
    ['https://api.example.com/v1/orders', true], // string entry compared as origin
    ['https://api.example.com:444/v1', false],
    ['https://evil.com/?https://api.example.com', false],
    ['https://api.example.com.evil.com/', false],
    ['https://cdn.example.net/api/x', true], // RegExp tested against the URL
    ['https://cdn.example.net/static/x', false],
    ['data:text/plain,hi', false],
    ['blob:https://shop.example.com/123', false],
    ['http://[bad', false],
  ];
  for (const [url, want] of cases) assert.equal(traceAllowed(url, page, allow), want, url);
});

test('an empty allow-list allows only same origin', () => {
  assert.equal(traceAllowed('/x', page, []), true);
  assert.equal(traceAllowed('https://api.example.com/x', page, []), false);
});

test('sameOrigin', () => {
  assert.equal(sameOrigin('/a', page), true);
  assert.equal(sameOrigin('https://other.example.com/a', page), false);
});

test("the agent's own requests are recognised", () => {
  const ep = 'https://collector.example.com/prefix';
  assert.equal(isOwn('https://collector.example.com/prefix/appmonitors/abc', page, ep), true);
  assert.equal(isOwn('https://collector.example.com/prefix/appmonitors/abc/config', page, ep), true);
  assert.equal(isOwn('https://collector.example.com/prefix/other', page, ep), false);
  assert.equal(isOwn('https://collector.example.com/prefixappmonitors/abc', page, ep), false);
  assert.equal(isOwn('/prefix/appmonitors/abc', page, ep), false);
  assert.equal(isOwn('https://shop.example.com/appmonitors/x', page, ''), false);
});
