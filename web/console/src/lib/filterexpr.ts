// Helpers for X-Ray filter expressions: building them from clicks, and placing the API's
// syntax errors ("FilterExpression: 1:14: expected ...") under the input.

/** A string literal of the filter language: double quotes, with \ and " escaped. */
export function quote(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** Traces through one service: service("name"). */
export function serviceFilter(name: string): string {
  return `service(${quote(name)})`;
}

export function edgeFilter(from: string, to: string): string {
  return `edge(${quote(from)}, ${quote(to)})`;
}

/** ANDs clauses, parenthesising any that contain OR so precedence cannot change meaning. */
export function and(...clauses: (string | undefined | null)[]): string {
  const cs = clauses.map((c) => (c ?? '').trim()).filter(Boolean);
  if (cs.length <= 1) return cs[0] ?? '';
  return cs.map((c) => (/\bor\b|\|\|/i.test(c) ? `(${c})` : c)).join(' AND ');
}

export interface SyntaxError {
  line: number;
  col: number;
  message: string;
}

/** Reads "line:col: message" out of an API error message, or null if it has no position. */
export function parseSyntaxError(apiMessage: string): SyntaxError | null {
  const m = /(?:^|:\s*)(\d+):(\d+):\s*(.*)$/s.exec(apiMessage);
  if (!m) return null;
  return { line: +m[1], col: +m[2], message: m[3] };
}

/** The offset in `expr` of a 1-based line:col (columns count characters). */
export function offsetOf(expr: string, line: number, col: number): number {
  const lines = expr.split('\n');
  let off = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) off += lines[i].length + 1;
  return Math.min(expr.length, off + Math.max(0, col - 1));
}

/** A caret line under the expression's line pointing at the error column. */
export function caret(expr: string, e: SyntaxError): { text: string; pointer: string } {
  const text = expr.split('\n')[e.line - 1] ?? '';
  return { text, pointer: ' '.repeat(Math.max(0, e.col - 1)) + '^' };
}

/** Examples offered under an empty input. */
export const EXAMPLES = [
  'responsetime > 1',
  'fault',
  'http.status = 500',
  'http.url CONTAINS "/api"',
  'annotation.customer = "gold"',
  'service("front") { fault }',
];
