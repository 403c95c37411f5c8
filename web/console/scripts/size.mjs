// Prints the gzipped size of the built console; with --check, fails above the budget.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET = 400 * 1024;
const dir = '../../internal/ui/dist/assets';
let total = 0;
for (const f of readdirSync(dir)) {
  if (!/\.(js|css)$/.test(f)) continue;
  const raw = readFileSync(`${dir}/${f}`);
  const gz = gzipSync(raw, { level: 9 }).length;
  total += gz;
  console.log(`${f}: ${raw.length} bytes, ${gz} bytes gzipped`);
}
console.log(`total: ${total} bytes gzipped (budget ${BUDGET})`);
if (total === 0) {
  console.error('no built assets found: run npm run build');
  process.exit(1);
}
if (process.argv.includes('--check') && total > BUDGET) {
  console.error(`the console is over its budget of ${BUDGET} bytes gzipped`);
  process.exit(1);
}
