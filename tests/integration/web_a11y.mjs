// web_a11y.mjs — the browser half of test_web_a11y.py: on a ward screen
// (1366×768) and on a tablet (768×1024, touch), every screen of the page —
// "Inscrire ce navigateur", whom the invite is for, every view of the
// navigation bar (read from the page, so a new view is checked without
// editing this file) plus the views cfg.extraViews names ([id, arg]
// pairs: one thread, one case…), "Déverrouiller" — is checked with axe-core
// (no serious or critical violation) and for horizontal overflow; the
// navigation is walked with Tab alone. Usage: node web_a11y.mjs CONFIG_JSON
import path from 'node:path';
import { launch, enrol, openView, axe, overflow } from './web_lib.mjs';

const cfg = JSON.parse(process.argv[2]);
const SCREENS = {
  ward: { viewport: { width: 1366, height: 768 } },
  tablet: { viewport: { width: 768, height: 1024 }, isMobile: true, hasTouch: true },
};
const form = SCREENS[cfg.screen];
const b = await launch({ ...cfg, profile: path.join(cfg.profile, cfg.screen) }, form);
const values = b.values;
values.violations = {};

function grave(list) {
  return list.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

await b.run(async ({ page, check, step, shot }) => {
  const seen = {};
  const wide = {};
  const look = async (name) => {
    const v = await axe(page, cfg.web);
    seen[name] = v;
    values.violations[name] = v;
    const o = await overflow(page);
    if (o.length) wide[name] = o;
    return grave(v);
  };
  const say = (list) => list.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes}× ${v.targets.join(' | ')})`).join('\n');

  step('enrol screen');
  await page.goto(cfg.url);
  await b.screen('enrol');
  let g = await look('enrol');
  check(g.length === 0, `${cfg.screen}: "Inscrire ce navigateur" has no serious axe-core violation`, say(g));

  step('axe finds a planted fault');
  // the check can fail: a field without a label and a button without a
  // name, planted in the page, are found as serious or critical
  await page.evaluate(() => {
    const i = document.createElement('input');
    const btn = document.createElement('button');
    document.getElementById('app').append(i, btn);
  });
  const planted = grave(await axe(page, cfg.web)).map((v) => v.id);
  check(planted.includes('label') && planted.includes('button-name'),
    `${cfg.screen}: axe-core finds a field without label and a button without name planted in the page`,
    planted.join(', '));
  await page.reload();
  await b.screen('enrol');

  step('invite shown');
  await page.getByLabel('Code d’invitation').fill(cfg.code);
  await page.getByRole('button', { name: 'Vérifier l’invitation' }).click();
  await page.waitForSelector('[data-testid="invite-info"]');
  g = await look('invite');
  check(g.length === 0, `${cfg.screen}: the invite's details and the passphrase form have no serious violation`, say(g));

  step('views');
  await page.goto(cfg.url); // back to a clean enrol screen
  await enrol(page, cfg.code, cfg.passphrase, 'Poste de test');
  const nav = await page.$$eval('nav a[data-view]', (as) => as.map((a) => a.dataset.view));
  const views = nav.map((id) => [id, null]).concat(cfg.extraViews || []);
  const bad = [];
  for (const [id, arg] of views) {
    await openView(page, id, arg);
    await page.waitForTimeout(300); // the view's first data
    const name = arg ? `${id}/${arg.slice(0, 8)}` : id;
    const gv = await look(name);
    if (gv.length) bad.push(`${name}: ${say(gv)}`);
    if (cfg.screen === 'ward' && !arg) await shot(`web-a11y-${id}`);
  }
  values.views = views.map(([id, arg]) => (arg ? `${id}/${arg}` : id));
  check(nav.length >= 1 && bad.length === 0,
    `${cfg.screen}: every view (${views.length}: ${values.views.join(', ')}) has no serious violation`, bad.join('\n'));

  step('keyboard');
  // from the page's top, Tab alone reaches every link of the navigation and "Verrouiller"
  await openView(page, nav[0]);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  const reached = new Set();
  for (let i = 0; i < nav.length + 12; i += 1) {
    await page.keyboard.press('Tab');
    const what = await page.evaluate(() => {
      const a = document.activeElement;
      return a ? (a.dataset.view || a.textContent.trim()) : '';
    });
    reached.add(what);
  }
  const missing = nav.concat(['Verrouiller']).filter((x) => !reached.has(x));
  check(missing.length === 0, `${cfg.screen}: Tab reaches every link of the navigation and "Verrouiller"`,
    `not reached: ${missing.join(', ')}`);

  step('unlock screen');
  await page.getByRole('button', { name: 'Verrouiller' }).click();
  await b.screen('unlock');
  g = await look('unlock');
  check(g.length === 0, `${cfg.screen}: "Déverrouiller" has no serious violation`, say(g));

  check(Object.keys(wide).length === 0, `${cfg.screen}: no screen is wider than the window (no horizontal scrolling)`,
    JSON.stringify(wide));
  const minor = Object.entries(seen).flatMap(([n, list]) => list.filter((v) => !grave([v]).length)
    .map((v) => `${n}: ${v.impact} ${v.id}`));
  values.minor = minor;
});
