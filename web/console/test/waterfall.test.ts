import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bounds, buildTree, criticalPath, exceptions, layout, rumSession, status, ticks, walk, type XRaySegment } from '../src/lib/waterfall';

const seg = (d: Record<string, unknown>): XRaySegment => ({ Id: String(d.id), Document: JSON.stringify(d) });

// browser (0..1.0) → its subsegment b1 (0.1..0.9) → front segment (0.15..0.85, parent b1)
//   front has subsegments: db (0.2..0.3), api (0.3..0.8) with nested http (0.35..0.75); and an
//   independent late one 'cache' (0.2..0.25) that is not on the critical path.
const trace: XRaySegment[] = [
  seg({
    id: 'front', name: 'front', start_time: 100.15, end_time: 100.85, parent_id: 'b1', http: { response: { status: 500 } }, fault: true,
    subsegments: [
      { id: 'db', name: 'db', start_time: 100.2, end_time: 100.3, parent_id: 'front' },
      { id: 'cache', name: 'cache', start_time: 100.2, end_time: 100.25, parent_id: 'front' },
      { id: 'api', name: 'api', start_time: 100.3, end_time: 100.8, parent_id: 'front', // Go SDK: parent_id is the root's
        subsegments: [{ id: 'http', name: 'http', start_time: 100.35, end_time: 100.75, parent_id: 'front', error: true }] },
    ],
  }),
  seg({ id: 'browser', name: 'rum.aws.amazon.com', origin: 'AWS::RUM::AppMonitor', start_time: 100, end_time: 101,
    subsegments: [{ id: 'b1', name: 'api.example.com', namespace: 'remote', start_time: 100.1, end_time: 100.9 }] }),
  { Id: 'broken', Document: '{not json' },
];

test('buildTree nests subsegments and links segments by parent_id', () => {
  const { roots, skipped } = buildTree(trace);
  assert.equal(skipped, 1);
  assert.equal(roots.length, 1);
  const names: string[] = [];
  walk(roots, (s, d) => names.push(`${'.'.repeat(d)}${s.name}`));
  assert.deepEqual(names, ['rum.aws.amazon.com', '.api.example.com', '..front', '...cache', '...db', '...api', '....http']);
  assert.deepEqual(bounds(roots), { start: 100, end: 101 });
});

test('layout hides collapsed children and places bars', () => {
  const { roots } = buildTree(trace);
  const all = layout(roots, new Set());
  assert.equal(all.length, 7);
  const front = all.find((r) => r.span.id === 'front')!;
  assert.ok(Math.abs(front.left - 15) < 1e-6 && Math.abs(front.width - 70) < 1e-6, `${front.left} ${front.width}`);
  const folded = layout(roots, new Set(['front']));
  assert.deepEqual(folded.map((r) => r.span.id), ['browser', 'b1', 'front']);
  assert.ok(folded[2].collapsed && folded[2].hasChildren);
});

test('criticalPath follows the last-finishing children back in time', () => {
  const { roots } = buildTree(trace);
  assert.deepEqual([...criticalPath(roots)].sort(), ['api', 'b1', 'browser', 'db', 'front', 'http']);
});

test('criticalPath of overlapping siblings picks the later finisher only', () => {
  const { roots } = buildTree([
    seg({ id: 'r', name: 'r', start_time: 0, end_time: 10, subsegments: [
      { id: 'a', name: 'a', start_time: 1, end_time: 9 },
      { id: 'b', name: 'b', start_time: 2, end_time: 5 }, // inside a's span: not critical
      { id: 'c', name: 'c', start_time: 0, end_time: 1 },
    ] }),
  ]);
  assert.deepEqual([...criticalPath(roots)].sort(), ['a', 'c', 'r']);
  assert.deepEqual([...criticalPath([])], []);
});

test('cycles in parent ids do not hang', () => {
  const { roots } = buildTree([seg({ id: 'x', name: 'x', parent_id: 'y', start_time: 0, end_time: 1 }), seg({ id: 'y', name: 'y', parent_id: 'x', start_time: 0, end_time: 1 })]);
  let n = 0;
  walk(roots, () => n++);
  assert.equal(n, 2);
});

test('ticks, status, exceptions, rumSession', () => {
  assert.deepEqual(ticks(1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(ticks(0), [0]);
  const { roots } = buildTree([
    seg({ id: 's', name: 's', start_time: 0, end_time: 1, throttle: true, error: true, origin: 'AWS::RUM::AppMonitor',
      cause: { exceptions: [{ type: 'TypeError', message: 'Failed to fetch', stack: [{ label: 'f', path: 'a.js', line: 3 }] }] } }),
  ]);
  assert.equal(status(roots[0]), 'throttle');
  assert.deepEqual(exceptions(roots[0]), [{ type: 'TypeError', message: 'Failed to fetch', remote: false, stack: ['f (a.js:3)'] }]);
  assert.ok(rumSession(roots[0]));
  const { roots: r2 } = buildTree([seg({ id: 't', name: 't', start_time: 0, end_time: 1 })]);
  assert.equal(rumSession(r2[0]), null);
  assert.equal(status(r2[0]), 'ok');
});
