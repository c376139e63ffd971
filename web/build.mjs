// Builds web/dist: the ES modules of web/src bundled by esbuild into
// dist/assets/NAME-HASH.js (content-hashed, so liaisond can serve them as
// immutable; the stylesheet src/style.css likewise), dist/index.html pointing at the hashed entry (served no-cache),
// and dist/manifest.json mapping each entry to its file and size.
// Usage: node build.mjs   (from web/, or through `npm run build`)
import * as esbuild from 'esbuild';
import { readFile, writeFile, rm, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(path.join(dist, 'assets'), { recursive: true });

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { main: 'src/main.js', crypto: 'src/crypto/index.js', style: 'src/style.css' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  sourcemap: false,
  legalComments: 'linked',
  outdir: 'dist/assets',
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

const manifest = {};
for (const [out, meta] of Object.entries(result.metafile.outputs)) {
  const file = path.basename(out);
  if (meta.entryPoint) {
    const name = meta.entryPoint.endsWith('main.js') ? 'main'
      : meta.entryPoint.endsWith('.css') ? 'style' : 'crypto';
    manifest[name] = { file: `assets/${file}`, bytes: meta.bytes };
  }
}
manifest.files = Object.fromEntries(
  Object.entries(result.metafile.outputs).map(([out, meta]) => [`assets/${path.basename(out)}`, meta.bytes]));

const html = (await readFile(path.join(root, 'src/index.html'), 'utf8'))
  .replace('{{main}}', path.basename(manifest.main.file))
  .replace('{{style}}', path.basename(manifest.style.file));
await writeFile(path.join(dist, 'index.html'), html);
await writeFile(path.join(dist, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

let total = 0;
for (const [f, n] of Object.entries(manifest.files)) {
  total += n;
  console.log(`web: ${f} ${n} bytes`);
}
console.log(`web: dist/ built, ${total} bytes of JavaScript and CSS`);
