import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectorBase, rumWebSnippet, sightlineSnippet } from '../src/lib/snippet';

test('collectorBase', () => {
  assert.equal(collectorBase('http://127.0.0.1:8081/'), 'http://127.0.0.1:8081');
  assert.equal(collectorBase('127.0.0.1:8081'), 'http://127.0.0.1:8081');
  assert.equal(collectorBase('http://0.0.0.0:8081', 'rum.example.com'), 'http://rum.example.com:8081');
  assert.equal(collectorBase('http://:8081', 'h'), 'http://h:8081');
  assert.equal(collectorBase('https://rum.example.com/prefix/', 'x'), 'https://rum.example.com/prefix');
});

test('sightline snippet pins the agent with SRI and escapes', () => {
  const s = sightlineSnippet({ appMonitorId: 'abc-123', ingestURL: 'http://127.0.0.1:8081', agentIntegrity: 'sha384-XYZ' });
  assert.match(s, /src="http:\/\/127\.0\.0\.1:8081\/agent\/v1\/sightline\.js" integrity="sha384-XYZ" crossorigin="anonymous"/);
  assert.match(s, /"appMonitorId":"abc-123","endpoint":"http:\/\/127\.0\.0\.1:8081"/);
  const evil = sightlineSnippet({ appMonitorId: '</script><b>', ingestURL: 'http://h' });
  assert.ok(!evil.includes('</script><b>'));
  assert.ok(!sightlineSnippet({ appMonitorId: 'a', ingestURL: 'http://h' }).includes('integrity'));
});

test('aws-rum-web snippet: signing off, endpoint, telemetries and trace header allow-list', () => {
  const s = rumWebSnippet({ appMonitorId: 'id-1', ingestURL: 'http://127.0.0.1:8081', sessionSampleRate: 0.5, enableXRay: true, allowCookies: true, telemetries: ['errors', 'http'], traceHeaderAllowList: ['^https://api\\.example\\.com'] });
  assert.match(s, /"signing": false/);
  assert.match(s, /"endpoint": "http:\/\/127\.0\.0\.1:8081"/);
  assert.match(s, /"sessionSampleRate": 0\.5/);
  assert.ok(s.includes(`"telemetries": ["errors", ['http', { addXRayTraceIdHeader: [new RegExp("^https://api\\\\.example\\\\.com")], recordAllRequests: true }]]`), s);
  assert.match(s, /new AwsRum\("id-1"/);
  const off = rumWebSnippet({ appMonitorId: 'x', ingestURL: 'http://h', enableXRay: false });
  assert.match(off, /addXRayTraceIdHeader: false/);
});
