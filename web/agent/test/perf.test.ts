import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { caps, fileType, navigationDetails, resourceDetails, trimStack } from '../src/perf';
import { parseUA } from '../src/ua';
import { attribution } from '../src/vitals';

const golden = JSON.parse(readFileSync(new URL('../../testdata/aws-rum-web-3.2.1-batch.json', import.meta.url), 'utf8'));
const goldenDetails = (name: string) => JSON.parse(golden.RumEvents.find((e: { type: string }) => e.type == 'com.amazon.rum.' + name).details);

test('per-page caps', () => {
  const c = caps({ resource: 3 });
  assert.deepEqual([1, 2, 3, 4, 5].map(() => c.allow('resource')), [true, true, true, false, false]);
  assert.equal(c.allow('other'), true, 'kinds without a limit are not capped');
  c.reset();
  assert.equal(c.allow('resource'), true);
});

test('fileType', () => {
  const cases: [string, string, string][] = [
    ['https://x/a.js?v=1', 'script', 'script'],
    ['https://x/a.mjs', 'other', 'script'],
    ['https://x/s.CSS', 'link', 'stylesheet'],
    ['https://x/favicon.ico', 'other', 'image'],
    ['https://x/i.jpeg#f', 'img', 'image'],
    ['https://x/f.woff2', 'css', 'font'],
    ['https://x/p.html', 'iframe', 'document'],
    ['https://x/api/data', 'fetch', 'other'],
    ['https://x/pixel', 'img', 'image'],
    ['https://x/bundle', 'script', 'script'],
  ];
  for (const [url, init, want] of cases) assert.equal(fileType(url, init), want, url);
});

test('resource details have the aws-rum-web fields', () => {
  const want = goldenDetails('performance_resource_event');
  const e = { name: 'http://127.0.0.1:8080/actions.js', initiatorType: 'script', startTime: 49.8, duration: 27.4, transferSize: 1825 } as PerformanceResourceTiming;
  const got = resourceDetails(e);
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  assert.equal(got.fileType, 'script');
});

test('navigation details derive aws-rum-web durations', () => {
  const want = goldenDetails('performance_navigation_event');
  const entry: Record<string, unknown> = {
    name: 'http://127.0.0.1:8080/cdn.html?secret=1', entryType: 'navigation', initiatorType: 'navigation', type: 'navigate', startTime: 0, duration: 209.8,
    unloadEventStart: 0, unloadEventEnd: 0, redirectCount: 0, redirectStart: 0, redirectEnd: 0, workerStart: 0, fetchStart: 4.5,
    domainLookupStart: 4.5, domainLookupEnd: 4.5, connectStart: 4.5, connectEnd: 4.5, secureConnectionStart: 0, nextHopProtocol: 'http/1.1',
    requestStart: 7.8, responseStart: 16.3, responseEnd: 26.4, domInteractive: 121.9, domContentLoadedEventStart: 122, domContentLoadedEventEnd: 123.5,
    domComplete: 208.8, loadEventStart: 209.3, loadEventEnd: 209.8, transferSize: 1266, encodedBodySize: 966, decodedBodySize: 966, serverTiming: [],
  };
  const e = { ...entry, toJSON: () => entry } as unknown as PerformanceNavigationTiming;
  const got = navigationDetails(e);
  // The fields PROTOCOLS §1 lists for this event, all present in aws-rum-web's.
  const listed = 'initiatorType navigationType startTime redirectCount fetchStart dns connect tlsTime timeToFirstByte responseTime domInteractive domContentLoaded domComplete loadEventTime duration headerSize transferSize compressionRatio navigationTimingLevel'.split(' ');
  for (const k of listed) {
    assert.ok(k in want, `golden lacks ${k}`);
    assert.ok(k in got, `missing ${k}`);
    if (typeof want[k] == 'number') assert.ok(Math.abs((got[k] as number) - want[k]) < 0.6, `${k}: ${got[k]} vs ${want[k]}`);
  }
  assert.equal(got.name, undefined, 'the page URL (with its query) is not sent');
  assert.equal(got.serverTiming, undefined);
  assert.equal(got.timeToFirstByte, 16.3 - 7.8);
  assert.equal(got.domContentLoaded, 1.5);
  assert.equal(got.headerSize, 300);
  assert.equal(got.compressionRatio, 1);
  assert.equal(got.navigationTimingLevel, 2);
  assert.equal(got.navigationType, 'navigate');
});

test('stacks are trimmed to 1000 chars', () => {
  assert.equal(trimStack('x'.repeat(5000))!.length, 1000);
  assert.equal(trimStack(undefined), undefined);
  assert.equal(trimStack('short'), 'short');
});

test('web-vitals attribution keeps scalars under aws-rum-web names', () => {
  assert.deepEqual(attribution({ target: 'html>body>h1', url: 'u', resourceLoadDuration: 3, timeToFirstByte: 1, lcpEntry: { big: 1 }, navigationEntry: {} }), {
    element: 'html>body>h1',
    url: 'u',
    resourceLoadTime: 3,
    timeToFirstByte: 1,
  });
});

test('user agents', () => {
  const cases: [string, string, string, string, string][] = [
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', 'Chrome', '120', 'Linux', 'desktop'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91', 'Edge', '120', 'Windows', 'desktop'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15', 'Safari', '17', 'Mac OS', 'desktop'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1', 'Safari', '17', 'iOS', 'mobile'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1', 'Chrome', '120', 'iOS', 'mobile'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36', 'Chrome', '120', 'Android', 'mobile'],
    ['Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', 'Chrome', '120', 'Android', 'tablet'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0', 'Firefox', '121', 'Windows', 'desktop'],
    ['Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1', 'Safari', '17', 'iOS', 'tablet'],
    ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0', 'Opera', '106', 'Chrome OS', 'desktop'],
    ['curl/8.0', 'Other', '', 'Other', 'desktop'],
  ];
  for (const [ua, browserName, browserVersion, osName, deviceType] of cases) assert.deepEqual(parseUA(ua), { browserName, browserVersion, osName, deviceType }, ua);
});
