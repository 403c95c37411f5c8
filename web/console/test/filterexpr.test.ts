import { test } from 'node:test';
import assert from 'node:assert/strict';
import { and, caret, edgeFilter, offsetOf, parseSyntaxError, quote, serviceFilter } from '../src/lib/filterexpr';

test('quoting and builders', () => {
  assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(serviceFilter('front'), 'service("front")');
  assert.equal(serviceFilter('we"ird'), 'service("we\\"ird")');
  assert.equal(edgeFilter('a', 'b'), 'edge("a", "b")');
});

test('and parenthesises disjunctions', () => {
  assert.equal(and('fault', '', null, 'responsetime > 1'), 'fault AND responsetime > 1');
  assert.equal(and('error OR fault', 'http.status = 500'), '(error OR fault) AND http.status = 500');
  assert.equal(and('  fault '), 'fault');
  assert.equal(and(), '');
  assert.equal(and('http.url CONTAINS "order"', 'x'), 'http.url CONTAINS "order" AND x', 'OR inside a word is not OR');
});

test('syntax errors from the API', () => {
  assert.deepEqual(parseSyntaxError('FilterExpression: 1:14: expected a value after "="'), { line: 1, col: 14, message: 'expected a value after "="' });
  assert.deepEqual(parseSyntaxError('2:3: unexpected ")"'), { line: 2, col: 3, message: 'unexpected ")"' });
  assert.equal(parseSyntaxError('StartTime and EndTime are required'), null);
  const expr = 'responsetime >';
  const e = parseSyntaxError('FilterExpression: 1:15: expected a number')!;
  assert.deepEqual(caret(expr, e), { text: expr, pointer: ' '.repeat(14) + '^' });
  assert.equal(offsetOf('ab\ncd', 2, 2), 4);
  assert.equal(offsetOf('ab', 1, 99), 2);
});
