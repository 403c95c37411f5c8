// Bundles the agent (IIFE for the snippet, ES module for bundlers) and, with --tests, the unit tests.
// esbuild bundles; terser minifies, because it packs this code ~5% smaller and the IIFE has a hard
// 10 KB gzip budget.
import { build } from 'esbuild';
import { minify } from 'terser';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url)));
const common = {
  bundle: true,
  target: 'es2020',
  define: { __VERSION__: JSON.stringify(pkg.version) },
  legalComments: 'none',
  logLevel: 'warning',
};

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
  mkdirSync('dist', { recursive: true });
  for (const [entry, out, format] of [
    ['src/snippet.ts', 'dist/sightline.js', 'iife'],
    ['src/index.ts', 'dist/sightline.mjs', 'esm'],
  ]) {
    const r = await build({ ...common, entryPoints: [entry], format, write: false });
    const min = await minify(r.outputFiles[0].text, {
      ecma: 2020,
      module: format == 'esm',
      toplevel: true,
      compress: { passes: 3, unsafe_arrows: true, pure_getters: true },
    });
    writeFileSync(out, min.code);
  }
}
