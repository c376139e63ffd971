// web_first_screen.mjs — how fast the browser client is usable (issue 15:
// "the first screen is usable within 1 s on loopback, measured"), in
// Debian's Chromium driven by playwright-core, against the liaisond
// bench/web_first_screen.sh starts. Prints one JSON object:
//   cold      RUNS page loads with an empty cache and a fresh profile:
//             ms from navigation start to the first usable screen (the
//             page's User Timing mark "liaison-first-screen", set when
//             "Inscrire ce navigateur" or "Déverrouiller" is shown, the
//             crypto loaded) and to the load event
//   warm      the same with the browser's cache filled (immutable assets)
//   unlock    ms from the click on "Déverrouiller" to the logged-in page
//             and to its first view shown (Argon2id, login, the view's data)
//   bytes     what the first load transfers (from the page's resource timing)
// Usage: node web_first_screen.mjs URL WEB_DIR CHROMIUM INVITE_CODE RUNS
import { createRequire } from 'node:module';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';

const [url, web, chromiumPath, code, runsArg] = process.argv.slice(2);
const RUNS = Number(runsArg || 10);
const { chromium } = createRequire(path.join(web, 'package.json'))('playwright-core');
const args = process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [];
const PASS = 'une phrase de passe de mesure';

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, min: Math.round(s[0]), median: Math.round(q(0.5)), p90: Math.round(q(0.9)),
    max: Math.round(s[s.length - 1]) };
}

async function timings(page) {
  await page.waitForFunction(() => performance.getEntriesByName('liaison-first-screen').length > 0);
  await page.waitForFunction(() => performance.getEntriesByType('navigation')[0]?.loadEventEnd > 0);
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource');
    return {
      first: performance.getEntriesByName('liaison-first-screen')[0].startTime,
      load: nav.loadEventEnd,
      transfer: nav.transferSize + res.reduce((a, r) => a + r.transferSize, 0),
      decoded: nav.decodedBodySize + res.reduce((a, r) => a + r.decodedBodySize, 0),
    };
  });
}

const out = { runs: RUNS, cold: { first: [], load: [] }, warm: { first: [], load: [] },
  unlock: { session: [], view: [] }, bytes: null };
const dirs = [];
try {
  for (let i = 0; i < RUNS; i += 1) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lsn-web-bench-'));
    dirs.push(dir);
    const ctx = await chromium.launchPersistentContext(dir, { executablePath: chromiumPath, headless: true,
      args, ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } });
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(url);
    const c = await timings(page);
    out.cold.first.push(c.first);
    out.cold.load.push(c.load);
    if (!out.bytes) out.bytes = { transfer: c.transfer, decoded: c.decoded };
    await page.reload();
    const w = await timings(page);
    out.warm.first.push(w.first);
    out.warm.load.push(w.load);
    await ctx.close();
  }
  // unlock: one browser enrolled once, then RUNS reload + unlock
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lsn-web-bench-'));
  dirs.push(dir);
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: chromiumPath, headless: true,
    args, ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(60000);
  await page.goto(url);
  await page.getByLabel('Code d’invitation').fill(code);
  await page.getByRole('button', { name: 'Vérifier l’invitation' }).click();
  await page.getByLabel('Phrase de passe', { exact: true }).fill(PASS);
  await page.getByLabel('Phrase de passe, encore une fois').fill(PASS);
  await page.getByRole('button', { name: 'Inscrire ce navigateur' }).click();
  await page.waitForSelector('html[data-screen="session"]');
  for (let i = 0; i < RUNS; i += 1) {
    await page.reload();
    await page.waitForSelector('html[data-screen="unlock"]');
    await page.getByLabel('Phrase de passe').fill(PASS);
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Déverrouiller' }).click();
    await page.waitForSelector('html[data-screen="session"]');
    out.unlock.session.push(Date.now() - t0);
    await page.waitForSelector('html[data-view]');
    out.unlock.view.push(Date.now() - t0);
  }
  await ctx.close();
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
for (const k of ['cold', 'warm']) for (const m of ['first', 'load']) out[k][m] = stats(out[k][m]);
for (const m of ['session', 'view']) out.unlock[m] = stats(out.unlock[m]);
console.log(JSON.stringify(out, null, 1));
