// Builds web/dist: the ES modules of web/src bundled by esbuild into
// dist/assets/NAME-HASH.js (content-hashed, so liaisond can serve them as
// immutable; the stylesheet src/style.css likewise), dist/index.html pointing at the hashed entry (served no-cache),
// and dist/manifest.json mapping each entry to its file and size. Each
// file also gets a precompressed FILE.gz (gzip -9) when that is smaller:
// liaisond sends it to a browser that accepts gzip (docs/WEB.md).
// Usage: node build.mjs   (from web/, or through `npm run build`)
import * as esbuild from 'esbuild';
import { readFile, writeFile, rm, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { gzipSync, constants as zc } from 'node:zlib';

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
  // the three entries by their source; a module loaded with import() is
  // an entry point to esbuild too (the QR code's chunk) and is not named
  const name = { 'src/main.js': 'main', 'src/style.css': 'style', 'src/crypto/index.js': 'crypto' }[meta.entryPoint];
  if (name) manifest[name] = { file: `assets/${file}`, bytes: meta.bytes };
}
manifest.files = Object.fromEntries(
  Object.entries(result.metafile.outputs).map(([out, meta]) => [`assets/${path.basename(out)}`, meta.bytes]));

const html = (await readFile(path.join(root, 'src/index.html'), 'utf8'))
  .replace('{{main}}', path.basename(manifest.main.file))
  .replace('{{style}}', path.basename(manifest.style.file));
await writeFile(path.join(dist, 'index.html'), html);
await writeFile(path.join(dist, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

// the precompressed siblings, written after the manifest so it lists
// only what the page names (the .gz are the same bytes, encoded)
let total = 0;
let totalGz = 0;
for (const f of ['index.html', ...Object.keys(manifest.files)]) {
  const raw = await readFile(path.join(dist, f));
  const gz = gzipSync(raw, { level: zc.Z_BEST_COMPRESSION });
  const smaller = gz.length < raw.length;
  if (smaller) await writeFile(path.join(dist, `${f}.gz`), gz);
  if (f === 'index.html') continue;
  total += raw.length;
  totalGz += smaller ? gz.length : raw.length;
  console.log(`web: ${f} ${raw.length} bytes, ${smaller ? gz.length : raw.length} sent gzipped`);
}
console.log(`web: dist/ built, ${total} bytes of JavaScript and CSS (${totalGz} sent gzipped)`);
