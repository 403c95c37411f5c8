// Bundles the console into internal/ui/dist (embedded by the Go binary): index.html plus
// content-hashed assets under assets/, which the server caches as immutable. With --tests,
// bundles the unit tests for node --test instead.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

const common = { bundle: true, legalComments: 'none', logLevel: 'warning', jsx: 'automatic', jsxImportSource: 'preact' };

if (process.argv.includes('--tests')) {
  rmSync('build', { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: readdirSync('test').filter((f) => f.endsWith('.test.ts')).map((f) => 'test/' + f),
    outdir: 'build/test',
    outExtension: { '.js': '.mjs' },
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
  });
} else {
  const out = '../../internal/ui/dist';
  // Keep the committed placeholder and its .gitignore; replace everything built before.
  for (const f of readdirSync(out, { withFileTypes: true })) {
    if (f.name !== '.keep' && f.name !== '.gitignore') rmSync(`${out}/${f.name}`, { recursive: true, force: true });
  }
  mkdirSync(`${out}/assets`, { recursive: true });
  const r = await build({
    ...common,
    entryPoints: { app: 'src/main.ts' },
    outdir: `${out}/assets`,
    entryNames: '[name]-[hash]',
    format: 'esm',
    target: 'es2022',
    minify: true,
    metafile: true,
    loader: { '.css': 'css' },
  });
  const outputs = Object.keys(r.metafile.outputs);
  const js = basename(outputs.find((o) => o.endsWith('.js')));
  const css = basename(outputs.find((o) => o.endsWith('.css')));
  const html = readFileSync('src/index.html', 'utf8').replace('__JS__', js).replace('__CSS__', css);
  writeFileSync(`${out}/index.html`, html);
  console.log(`built ${js} ${css}`);
}
