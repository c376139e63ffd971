// web_lib.mjs — what every browser driver (web_*.mjs) shares: Debian's
// Chromium launched by playwright-core (from web/node_modules) on a profile
// directory kept between phases, the check lines webdrive.py turns into
// TAP, the watch for console errors, page errors and off-origin requests,
// screenshots (only when LSN_SCREENSHOTS names a directory), and the
// page's steps a user takes: enrol from an invite, unlock, open a view.
//
//   const b = await launch(cfg);            // cfg from webdrive.base_config
//   await b.run(async ({ page, check, step }) => { ... });
//
// run() reports an exception as one failing check naming the last step,
// adds the final "no console error…" check, closes the browser and prints
// {"values": b.values}.
import { createRequire } from 'node:module';
import path from 'node:path';
import { mkdirSync, readFileSync } from 'node:fs';

export async function launch(cfg, { viewport = { width: 1366, height: 768 }, ...opts } = {}) {
  const requireWeb = createRequire(path.join(cfg.web, 'package.json'));
  const { chromium } = requireWeb('playwright-core');
  const problems = [];
  const values = {};
  const host = new URL(cfg.url).host;
  const context = await chromium.launchPersistentContext(cfg.profile, {
    executablePath: cfg.chromium,
    headless: true,
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
    ignoreHTTPSErrors: true,
    viewport,
    serviceWorkers: 'block',
    ...opts,
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(60000);
  watch(page, problems, host);
  let where = 'start';
  const b = {
    cfg, context, page, problems, values,
    check(ok, name, detail = '') {
      console.log(JSON.stringify({ check: name, ok: !!ok, detail: String(detail) }));
    },
    step(name) { where = name; },
    async shot(name) {
      if (!cfg.screenshots) return;
      mkdirSync(cfg.screenshots, { recursive: true });
      await page.screenshot({ path: path.join(cfg.screenshots, `${name}.png`) });
    },
    html: (attr, p = page) => p.evaluate((a) => document.documentElement.dataset[a] || '', attr),
    screen: (name, p = page) => p.waitForSelector(`html[data-screen="${name}"]`),
    view: (id, p = page) => p.waitForSelector(`html[data-view="${id}"]`),
    field: (name, p = page) => p.locator(`dd[data-field="${name}"]`).first().textContent(),
    alert: async (p = page) => {
      await p.waitForSelector('[role=alert]:not(:empty)');
      return p.locator('[role=alert]:not(:empty)').first().textContent();
    },
    /** Another tab of the same browser (same IndexedDB), watched like the first. */
    async newPage() {
      const p = await context.newPage();
      p.setDefaultTimeout(60000);
      watch(p, problems, host);
      return p;
    },
    async run(fn) {
      try {
        await fn(b);
        b.check(problems.length === 0, 'no console error, no page error, no off-origin request',
          problems.join('\n'));
      } catch (e) {
        b.check(false, `browser scenario stopped at "${where}"`, `${e && (e.stack || e)}\n${problems.join('\n')}`);
      } finally {
        await context.close();
        console.log(JSON.stringify({ values }));
      }
    },
  };
  return b;
}

function watch(page, problems, host) {
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.protocol !== 'blob:' && u.host !== host) problems.push(`off-origin request: ${r.url()}`);
  });
}

/**
 * This browser's device record as IndexedDB holds it (null when none):
 * byte arrays as {bytes, hex}, each sealed item as its length (-1 when it
 * is not bytes), the rest as stored.
 */
export function deviceRecord(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('liaison');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('device')) { db.close(); resolve(null); return; }
      const g = db.transaction('device').objectStore('device').get('this-device');
      g.onsuccess = () => {
        const r = g.result;
        db.close();
        if (!r) { resolve(null); return; }
        const hex = (v) => Array.from(v, (x) => x.toString(16).padStart(2, '0')).join('');
        const out = {};
        for (const [k, v] of Object.entries(r)) {
          if (v instanceof Uint8Array) out[k] = { bytes: v.length, hex: hex(v) };
          else if (k === 'sealed') out[k] = Object.fromEntries(Object.entries(v).map(([n, x]) => [n, x instanceof Uint8Array ? x.length : -1]));
          else out[k] = v;
        }
        resolve(out);
      };
      g.onerror = () => reject(g.error);
    };
  }));
}

/** Fills the device name and the passphrase (twice) of either enrolment form. */
export async function deviceFields(page, deviceName, passphrase) {
  await page.getByLabel('Nom de cet appareil').fill(deviceName);
  await page.getByLabel('Phrase de passe', { exact: true }).fill(passphrase);
  await page.getByLabel('Phrase de passe, encore une fois').fill(passphrase);
}

/** Enrols the page from an invite code (the page must show "Inscrire ce navigateur"). */
export async function enrol(page, code, passphrase, deviceName = 'Navigateur') {
  await page.waitForSelector('html[data-screen="enrol"]');
  await page.getByLabel('Code d’invitation').fill(code);
  await page.getByRole('button', { name: 'Vérifier l’invitation' }).click();
  await page.waitForSelector('[data-testid="invite-info"]');
  await deviceFields(page, deviceName, passphrase);
  await page.getByRole('button', { name: 'Inscrire ce navigateur' }).click();
  await page.waitForSelector('html[data-screen="session"]');
}

/** Unlocks the page (it must show "Déverrouiller"). */
export async function unlock(page, passphrase) {
  await page.waitForSelector('html[data-screen="unlock"]');
  await page.getByLabel('Phrase de passe').fill(passphrase);
  await page.getByRole('button', { name: 'Déverrouiller' }).click();
  await page.waitForSelector('html[data-screen="session"]');
}

/**
 * Adds the page as a further device of an existing account: the device
 * invite, the recovery code, a device name and a passphrase (twice), up to
 * the "device-added" screen (the caller presses « Continuer »).
 */
export async function addDevice(page, { code, recovery, deviceName, passphrase }) {
  await page.waitForSelector('html[data-screen="enrol"]');
  await page.getByLabel('Code d’invitation').fill(code);
  await page.getByRole('button', { name: 'Vérifier l’invitation' }).click();
  await page.waitForSelector('[data-testid="recovery-code"]');
  await page.getByLabel('Code de récupération').fill(recovery);
  await page.getByRole('button', { name: 'Ouvrir la sauvegarde' }).click();
  await page.waitForSelector('[data-testid="backup-opened"]');
  await deviceFields(page, deviceName, passphrase);
  await page.getByRole('button', { name: 'Ajouter ce navigateur' }).click();
  await page.waitForSelector('html[data-screen="device-added"]');
}

/** Opens a view of the logged-in page by its URL fragment and waits for it. */
export async function openView(page, id, arg = null) {
  const hash = `#/${id}${arg === null ? '' : `/${encodeURIComponent(arg)}`}`;
  await page.evaluate((h) => { window.location.hash = h; }, hash);
  await page.waitForSelector(arg === null ? `html[data-view="${id}"]`
    : `html[data-view="${id}"][data-view-arg="${arg}"]`);
}

/**
 * Runs axe-core (web/node_modules/axe-core, evaluated through the DevTools
 * protocol, so the page's CSP is not loosened for it) on the page as it is
 * now: WCAG 2.1 A and AA rules and axe's best practices. Returns the
 * violations, each {id, impact, help, nodes, targets}.
 */
export async function axe(page, web) {
  const has = await page.evaluate(() => typeof window.axe === 'object');
  if (!has) await page.evaluate(readFileSync(path.join(web, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8'));
  return page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
}

/** What of the page is wider than the window (horizontal scrolling): [] when nothing. */
export async function overflow(page) {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > w + 1 && getComputedStyle(el).position !== 'fixed') {
        out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).split(' ')[0]}` : ''} right=${Math.round(r.right)} > ${w}`);
      }
    }
    return document.documentElement.scrollWidth > w + 1 ? out.slice(0, 5).concat(`scrollWidth ${document.documentElement.scrollWidth} > ${w}`) : out.slice(0, 5);
  });
}
