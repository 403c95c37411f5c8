// Prints gzipped sizes of the bundles; with --check, fails when the IIFE exceeds its budget.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET = 10 * 1024;
let over = false;
for (const f of ['dist/sightline.js', 'dist/sightline.mjs']) {
  const raw = readFileSync(f);
  const gz = gzipSync(raw, { level: 9 }).length;
  console.log(`${f}: ${raw.length} bytes, ${gz} bytes gzipped`);
  if (f.endsWith('.js') && gz > BUDGET) over = true;
}
if (process.argv.includes('--check') && over) {
  console.error(`dist/sightline.js is over its budget of ${BUDGET} bytes gzipped`);
  process.exit(1);
}
