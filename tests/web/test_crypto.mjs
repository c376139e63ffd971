#!/usr/bin/env node
// test_crypto.mjs — every test vector of docs/CRYPTO.md, computed by the
// browser crypto (web/dist, built from web/src/crypto) inside Debian's
// Chromium driven by playwright-core, compared here with the values read
// from the document (tests/web/doc_vectors.py). Prints TAP: one line per
// vector, one per behaviour check, and a last line for console errors.
//
// Usage: node tests/web/test_crypto.mjs SOURCE_ROOT
// Needs: web/node_modules (npm ci) and web/dist (npm run build), which
// ./dev prepares; /usr/bin/chromium (or $LIAISON_CHROMIUM). Nothing is
// fetched: the page's origin http://liaison.test is served from memory by
// page.route, and any other request is aborted and reported.
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(process.argv[2] || '.');
const web = path.join(root, 'web');
const ORIGIN = 'http://liaison.test';
// The behaviour checks vectors_page.js makes (each prints one TAP line); a
// different count is reported as a plan mismatch.
const N_CHECKS = 35;
const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; frame-ancestors 'none'; object-src 'none'; form-action 'none'";

let n = 0;
let failed = 0;
function tap(ok, name, detail = '') {
  n += 1;
  if (!ok) failed += 1;
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!ok && detail) for (const l of String(detail).split('\n')) console.log(`# ${l}`);
}

// The document's values (and the cross-check with crypto_vectors.py).
let doc;
try {
  doc = JSON.parse(execFileSync('python3', [path.join(root, 'tests/web/doc_vectors.py'), root],
    { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'pipe'] }));
} catch (e) {
  console.log('1..1');
  tap(false, 'the expected values are read from docs/CRYPTO.md', `${e.stderr || e.message}`);
  process.exit(1);
}
const cross = doc._crosscheck;
delete doc._crosscheck;
const names = Object.keys(doc);

// plan: cross-check, bundle loaded, every vector, the checks, the built
// index.html, console clean
const plan = 2 + names.length + N_CHECKS + 2;
console.log(`1..${plan}`);
tap(cross.ran && cross.differ.length === 0 && cross.both.length >= 40,
  `the document's values equal crypto_vectors.py's recomputation (${cross.both.length} values)`,
  cross.ran ? `differ: ${cross.differ.join(', ')}` : cross.error);

function finishMissing(why) {
  while (n < plan) tap(false, `not run: ${why}`);
  process.exit(1);
}

const manifestPath = path.join(web, 'dist/manifest.json');
if (!existsSync(path.join(web, 'node_modules/playwright-core')) || !existsSync(manifestPath)) {
  tap(false, 'web/node_modules and web/dist exist', 'run ./dev test, or in web/: npm ci && npm run build');
  finishMissing('web/ is not built');
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const requireWeb = createRequire(path.join(web, 'package.json'));
const { chromium } = requireWeb('playwright-core');

const files = new Map(); // path on the page's origin -> [content type, bytes]
for (const f of Object.keys(manifest.files)) {
  files.set('/' + f, [f.endsWith('.css') ? 'text/css' : 'text/javascript', readFileSync(path.join(web, 'dist', f))]);
}
files.set('/index.html', ['text/html', readFileSync(path.join(web, 'dist/index.html'))]);
files.set('/test/vectors_page.js', ['text/javascript', readFileSync(path.join(root, 'tests/web/vectors_page.js'))]);
files.set('/', ['text/html', Buffer.from('<!doctype html><html lang="en"><head><meta charset="utf-8">' +
  '<title>Liaison crypto vectors</title></head><body><p>CRYPTO.md vectors</p></body></html>')]);

const problems = []; // console errors, page errors, requests off the origin
const executablePath = process.env.LIAISON_CHROMIUM || '/usr/bin/chromium';
let browser;
try {
  browser = await chromium.launch({
    executablePath,
    headless: true,
    // root in CI: Chromium's sandbox needs an unprivileged user
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
} catch (e) {
  tap(false, `Chromium starts (${executablePath})`, e.message);
  finishMissing('no browser');
}

let result;
let indexState = 'not loaded';
try {
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    else if (m.text().startsWith('check threw')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    const f = url.origin === ORIGIN ? files.get(url.pathname) : undefined;
    if (!f) {
      problems.push(`request refused: ${route.request().url()}`);
      await route.abort();
      return;
    }
    await route.fulfill({
      status: 200,
      headers: { 'Content-Type': f[0], 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' },
      body: f[1],
    });
  });
  await page.goto(ORIGIN + '/');
  const t0 = Date.now();
  result = await page.evaluate(async ({ cryptoUrl, docValues }) => {
    const m = await import('/test/vectors_page.js');
    return m.run(cryptoUrl, docValues);
  }, { cryptoUrl: '/' + manifest.crypto.file, docValues: doc });
  result.timings.page_total_ms = Date.now() - t0;
  tap(true, `the bundled crypto (${manifest.crypto.file}) loads in Chromium ${browser.version()} under a strict CSP`);
  // the page liaisond will serve: its one module script (no inline script)
  // loads libsodium under the same CSP and marks the document ready
  const shell = await context.newPage();
  shell.on('console', (m) => {
    if (m.type() === 'error') problems.push(`index.html console error: ${m.text()}`);
  });
  shell.on('pageerror', (e) => problems.push(`index.html page error: ${e.message}`));
  await shell.goto(ORIGIN + '/index.html');
  try {
    await shell.waitForFunction(() => document.documentElement.dataset.crypto !== undefined, null, { timeout: 30000 });
    indexState = await shell.evaluate(() => document.documentElement.dataset.crypto);
  } catch (e) {
    indexState = `no state: ${e.message}`;
  }
} catch (e) {
  tap(false, 'the bundled crypto loads and runs in Chromium', e.stack || e.message);
  await browser.close();
  finishMissing('the page did not run');
}
await browser.close();

for (const name of names) {
  const got = result.values[name];
  tap(got === doc[name], `vector ${name}`, `expected ${doc[name]}\ngot      ${got}`);
}
const unexpected = Object.keys(result.values).filter((k) => !(k in doc));
if (unexpected.length) problems.push(`values the document does not give: ${unexpected.join(', ')}`);
for (const [name, ok] of result.checks) tap(ok, name);
if (result.checks.length !== N_CHECKS) {
  problems.push(`the page made ${result.checks.length} checks, the plan expects ${N_CHECKS}`);
}
tap(indexState === 'ready', `dist/index.html loads its hashed module and libsodium under the CSP (${manifest.main.file})`,
  `data-crypto = ${indexState}`);
tap(problems.length === 0, 'no console error, page error or off-origin request', problems.join('\n'));
console.log(`# timings (ms): ${JSON.stringify(result.timings)}`);
console.log(`# bundle: ${JSON.stringify(manifest.files)}`);
process.exit(failed ? 1 : 0);
