// web_indicators.mjs — the browser half of test_web_indicators.py: Debian's
// Chromium (playwright-core) enrols (phase "enrol"); then (phase "main") a
// CPTS coordinator opens « Indicateurs »: the current semester by default,
// then each of cfg.semesters from the selector; for each, every indicator's
// figures, per-pathway rows and trend table are read from the page (values
// for the Python side to compare with the CLI's report --json), its charts
// must be drawn, and « Télécharger le CSV » saves the file into
// cfg.downloads; then nothing wider than a tablet's window, the print media (no navigation, no buttons, the
// header with the CPTS, the semester and "état au"), a PDF of more than one
// page (cfg.pdf), axe-core, and a target set then removed from the page
// (a bad one refused in French). Phase "nurse": a nurse has no
// « Indicateurs » link and the URL tells her why. One JSON line per check.
// Usage: node web_indicators.mjs CONFIG_JSON
import path from 'node:path';
import { readFileSync, mkdirSync } from 'node:fs';
import { launch, enrol, unlock, openView, axe, overflow } from './web_lib.mjs';

const cfg = JSON.parse(process.argv[2]);
const b = await launch(cfg, { acceptDownloads: true });
const { values, check } = b;

/** What "Indicateurs" shows for its semester, read from the page's text. */
function readPage(page) {
  return page.evaluate(() => {
    const text = (el) => (el ? el.textContent : null);
    return {
      scope: text(document.querySelector('[data-testid="ind-scope"]')),
      indicators: [...document.querySelectorAll('article.indicator')].map((a) => ({
        id: a.dataset.indicator,
        summary: text(a.querySelector('.ind-summary')),
        rows: [...a.querySelectorAll('table.ind-figures tbody tr')].map((tr) => {
          const row = { pathway: tr.dataset.pathway };
          for (const col of ['value', 'numerator', 'denominator', 'n', 'not_yet_due', 'target', 'met']) {
            const td = tr.querySelector(`td[data-col="${col}"]`);
            if (td) row[col] = td.textContent;
          }
          return row;
        }),
        trendCodes: [...a.querySelectorAll('table.ind-trend thead th[data-pathway]')].map((th) => th.dataset.pathway),
        trend: [...a.querySelectorAll('table.ind-trend tbody tr')].map((tr) => ({
          semester: tr.dataset.semester,
          values: [...tr.querySelectorAll('td')].map((td) => td.textContent),
        })),
      })),
    };
  });
}

/** How many charts have ink (a canvas with some non-white, non-transparent pixel). */
function chartsInked(page) {
  return page.evaluate(() => [...document.querySelectorAll('article.indicator canvas')].filter((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) return true;
    return false;
  }).length);
}

async function waitSemester(page, s) {
  await page.waitForSelector(`section.indicators-view[data-semester="${s}"]`);
  await page.waitForSelector(`html[data-indicators-charts^="${s}:"]`);
}

await b.run(async ({ page, step }) => {
  if (cfg.phase === 'enrol') {
    step('enrol');
    await page.goto(cfg.url);
    await enrol(page, cfg.code, cfg.passphrase, 'Navigateur de la CPTS');
    await openView(page, 'account');
    const me = await page.evaluate(() => document.querySelector('[data-testid="whoami"]')?.dataset.user || '');
    values.user = me;
    check(/^[0-9a-f]{32}$/.test(me), 'the browser is enrolled', me);
    return;
  }

  if (cfg.phase === 'nurse') {
    step('nurse unlock');
    await page.goto(cfg.url);
    await unlock(page, cfg.passphrase);
    const links = await page.locator('nav a').allTextContents();
    check(!links.includes('Indicateurs') && await page.locator('nav a[data-view="indicators"]').count() === 0,
      'a nurse: no « Indicateurs » in the navigation bar', links.join(' | '));
    step('nurse url');
    await openView(page, 'indicators');
    const said = await page.locator('[data-testid="not-allowed"]').textContent();
    const alerts = await page.locator('[role=alert]:not(:empty)').count();
    check(/réservés à ses coordinateurs/.test(said || '') && alerts === 0 && await page.locator('article.indicator').count() === 0,
      'a nurse at #/indicators: told in French it is for coordinators, no request error', `${said} / alerts ${alerts}`);
    return;
  }

  // ---- main: the coordinator ----
  step('unlock');
  await page.goto(cfg.url);
  await unlock(page, cfg.passphrase);
  const link = page.locator('nav a[data-view="indicators"]');
  check(await link.count() === 1 && (await link.textContent()) === 'Indicateurs',
    'a coordinator: « Indicateurs » in the navigation bar', await page.locator('nav').textContent());
  step('default semester');
  await link.click();
  const current = cfg.semesters[0];
  await waitSemester(page, current);
  const options = await page.locator('#ind-semester option').evaluateAll((os) => os.map((o) => o.value));
  check(await page.locator('#ind-semester').inputValue() === current && options.length === 6 && options[0] === current
    && options[1] === cfg.semesters[1],
  `#/indicators opens on the current semester (${current}), the selector offers it and the five before`, options.join(' '));
  values.pages = {};
  mkdirSync(cfg.downloads, { recursive: true });
  const saved = [];
  for (const s of cfg.semesters) {
    step(`semester ${s}`);
    if (s !== current) {
      await page.selectOption('#ind-semester', s);
      await waitSemester(page, s);
    }
    const hash = await page.evaluate(() => window.location.hash);
    const shown = await readPage(page);
    values.pages[s] = shown;
    const n = shown.indicators.length;
    const inked = await chartsInked(page);
    const tables = shown.indicators.filter((a) => a.trend.length === 4 && a.rows.length >= 1).length;
    const alerts = await page.locator('[role=alert]:not(:empty)').allTextContents();
    check(n >= 20 && inked === n && tables === n && alerts.length === 0 && (hash === `#/indicators/${s}` || (s === current && hash === '#/indicators')),
      `${s}: ${n} indicators, each with its figures, a drawn chart and a 4-semester data table; no error`,
      `url ${hash}, ${n} indicators, ${inked} charts inked, ${tables} tables, alerts ${alerts.join(' | ')}`);
    if (s === current) {
      await b.shot('web-indicators-1-view');
      if (cfg.screenshots) {
        const fig = page.locator('article.indicator[data-indicator="2"]');
        await fig.screenshot({ path: path.join(cfg.screenshots, 'web-indicators-2-chart.png') });
      }
    }
    step(`csv ${s}`);
    const [dl] = await Promise.all([page.waitForEvent('download'),
      page.getByRole('button', { name: 'Télécharger le CSV' }).click()]);
    const name = dl.suggestedFilename();
    await dl.saveAs(path.join(cfg.downloads, name));
    saved.push(name);
  }
  check(saved.join(' ') === cfg.semesters.map((s) => `indicateurs-${s}.csv`).join(' '),
    '« Télécharger le CSV » saves indicateurs-<semester>.csv for each semester', saved.join(' '));

  step('tablet');
  await page.setViewportSize({ width: 768, height: 1024 });
  const wide = await overflow(page);
  check(wide.length === 0, 'on a tablet (768 px wide): nothing wider than the window', wide.join('\n'));
  await page.setViewportSize({ width: 1366, height: 768 });

  step('print');
  await page.selectOption('#ind-semester', current);
  await waitSemester(page, current);
  await page.emulateMedia({ media: 'print' });
  const printed = await page.evaluate(() => {
    const visible = (el) => !!el && getComputedStyle(el).display !== 'none' && el.getClientRects().length > 0;
    const buttons = [...document.querySelectorAll('button, select, nav')].filter(visible).length;
    const art = document.querySelector('article.indicator');
    return {
      nav: visible(document.querySelector('nav')),
      brand: visible(document.querySelector('body > header')),
      buttons,
      head: document.querySelector('.ind-header')?.innerText || '',
      breakInside: art ? getComputedStyle(art).breakInside : '',
      bg: getComputedStyle(document.body).backgroundColor,
      color: getComputedStyle(document.querySelector('.indicators-view')).color,
      tables: document.querySelectorAll('article.indicator table').length,
      charts: document.querySelectorAll('article.indicator canvas').length,
    };
  });
  check(!printed.nav && !printed.brand && printed.buttons === 0 && /CPTS Val de Loire/.test(printed.head)
    && /semestre/.test(printed.head) && /état au/.test(printed.head) && printed.breakInside === 'avoid'
    && printed.bg === 'rgb(255, 255, 255)' && printed.color === 'rgb(0, 0, 0)' && printed.charts > 0
    && printed.tables === 2 * printed.charts,
  'print media: no navigation, no button, black on white, the header names the CPTS, the semester and the date; '
    + 'every indicator with its tables and chart, not cut across pages', JSON.stringify(printed));
  step('pdf');
  await page.pdf({ path: cfg.pdf, format: 'A4', printBackground: true });
  const pdf = readFileSync(cfg.pdf).toString('latin1');
  const pages = (pdf.match(/\/Type\s*\/Page(?![a-z])/g) || []).length;
  check(pdf.startsWith('%PDF-') && pages > 1, `the printed page as a PDF: ${pages} pages`, `${pdf.length} bytes`);
  await page.emulateMedia({ media: 'screen' });

  step('axe');
  const found = (await axe(page, cfg.web)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(found.length === 0, 'axe-core: no serious or critical violation on « Indicateurs »',
    found.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.join(' | ')})`).join('\n'));

  step('target');
  await page.selectOption('#ind-target-id', '1a');
  await page.getByLabel('Objectif', { exact: true }).fill('quatre-vingt');
  await page.getByRole('button', { name: 'Fixer l’objectif' }).click();
  const refused = await b.alert();
  check(/nombre positif/.test(refused), 'a target that is not a number is refused in French before sending', refused);
  await page.getByLabel('Objectif', { exact: true }).fill('95,5');
  await page.getByRole('button', { name: 'Fixer l’objectif' }).click();
  const summary = page.locator('article.indicator[data-indicator="1a"] .ind-summary');
  await page.waitForFunction(() => /≥ 95,5/.test(document.querySelector('article.indicator[data-indicator="1a"] .ind-summary')?.textContent || ''));
  const setText = await summary.textContent();
  await page.selectOption('#ind-target-id', '1a');
  await page.getByRole('button', { name: 'Retirer l’objectif' }).click();
  await page.waitForFunction(() => /pas d’objectif/.test(document.querySelector('article.indicator[data-indicator="1a"] .ind-summary')?.textContent || ''));
  check(/≥ 95,5\u00a0% : (atteint|non atteint)/.test(setText || ''),
    'a target of 95,5 % for 1a set from the page shows with its verdict, then removed', setText);
});
