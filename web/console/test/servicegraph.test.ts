import { test } from 'node:test';
import assert from 'node:assert/strict';
import { health, histogramPercentile, meanResponse, nodeSize, shares, toElements, type Service } from '../src/lib/servicegraph';

const st = (ok: number, err: number, thr: number, fault: number, rt = 0) => ({
  OkCount: ok, ErrorStatistics: { ThrottleCount: thr, OtherCount: err - thr, TotalCount: err }, FaultStatistics: { TotalCount: fault },
  TotalCount: ok + err + fault, TotalResponseTime: rt,
});

test('health ranks fault > error > throttle > ok', () => {
  assert.equal(health(undefined), 'none');
  assert.equal(health(st(0, 0, 0, 0)), 'none');
  assert.equal(health(st(5, 0, 0, 0)), 'ok');
  assert.equal(health(st(5, 2, 2, 0)), 'throttle');
  assert.equal(health(st(5, 3, 2, 0)), 'error');
  assert.equal(health(st(5, 3, 2, 1)), 'fault');
});

test('shares and mean', () => {
  assert.deepEqual(shares(st(6, 3, 1, 1, 5)), { ok: 0.6, error: 0.2, throttle: 0.1, fault: 0.1 });
  assert.equal(meanResponse(st(4, 0, 0, 0, 2)), 0.5);
  assert.equal(meanResponse(undefined), null);
});

test('nodeSize grows with traffic within bounds', () => {
  assert.equal(nodeSize(0, 100), 30);
  assert.equal(nodeSize(100, 100), 80);
  const mid = nodeSize(10, 100);
  assert.ok(mid > 30 && mid < 80);
});

test('histogramPercentile', () => {
  const h = [{ Value: 0.3, Count: 1 }, { Value: 0.1, Count: 8 }, { Value: 0.2, Count: 1 }];
  assert.equal(histogramPercentile(h, 50), 0.1);
  assert.equal(histogramPercentile(h, 90), 0.2);
  assert.equal(histogramPercentile(h, 99), 0.3);
  assert.equal(histogramPercentile([], 50), null);
});

test('toElements: client node, edges with labels, dangling edges dropped', () => {
  const services: Service[] = [
    { ReferenceId: 0, Name: 'client', Type: 'client', Edges: [{ ReferenceId: 1, SummaryStatistics: st(9, 0, 0, 1, 2) }] },
    { ReferenceId: 1, Name: 'front', Type: 'AWS::EC2::Instance', Root: true, SummaryStatistics: st(9, 0, 0, 1, 2), Edges: [{ ReferenceId: 7 }] },
  ];
  const els = toElements(services, (s) => `${s}s`);
  assert.deepEqual(els.nodes.map((n) => [n.data.id, n.data.label, n.data.health, n.data.client]), [['0', 'client', 'none', true], ['1', 'front', 'fault', false]]);
  assert.deepEqual(els.edges.map((e) => e.data), [{ id: '0->1', source: '0', target: '1', label: '0.2s · 10 calls', health: 'fault' }]);
});
