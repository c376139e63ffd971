// web_verify.mjs — the browser half of test_web_verify.py: Debian's Chromium,
// driven by playwright-core, enrols, opens "Vérifier un collègue" from the
// navigation bar, finds the colleague, reads the safety number and the QR
// code's modules (for the Python side to compare with the CLI), runs
// axe-core on the view, answers "Ils diffèrent" then "Les numéros sont
// identiques", and finds the colleague still verified after a reload. Phase
// "changed" (the server shows another identity key): the alarm, the new
// number, and accepting it by confirming the new number.
// Usage: node web_verify.mjs CONFIG_JSON
import { launch, enrol, unlock, openView, axe, overflow } from './web_lib.mjs';

const cfg = JSON.parse(process.argv[2]);
const b = await launch(cfg);
const { values, check, shot, html, view } = b;
const paul = cfg.colleague;

// what the page draws: the <svg>'s module count and quiet zone, the dark
// modules' (column, row) from the <rect>s, and its size on the screen
const readQr = (page) => page.evaluate(() => {
  const svg = document.querySelector('[data-testid="verify-user"] svg.qr');
  if (!svg) return null;
  const n = Number(svg.getAttribute('data-modules'));
  const size = svg.viewBox.baseVal.width;
  const quiet = (size - n) / 2;
  const dark = [...svg.querySelectorAll('g.qr-dark rect')].map((r) => {
    const [x, y, w, hh] = ['x', 'y', 'width', 'height'].map((a) => Number(r.getAttribute(a)));
    return w === 1 && hh === 1 ? [x - quiet, y - quiet] : [-1, -1];
  });
  const box = svg.getBoundingClientRect();
  const bg = svg.querySelector('rect.qr-bg');
  return { modules: n, quiet, dark, width: box.width, height: box.height, role: svg.getAttribute('role'),
    label: svg.getAttribute('aria-label'), bg: bg && bg.getAttribute('fill'),
    darkFill: svg.querySelector('g.qr-dark').getAttribute('fill') };
});

const state = (page) => page.locator('[data-testid="pin-state"]').getAttribute('data-state');
const numberShown = (page) => page.locator('[data-testid="safety-number"]').textContent();

await b.run(async ({ page, step }) => {
  if (cfg.phase === 'changed') {
    step('changed key');
    await page.goto(cfg.url);
    await unlock(page, cfg.passphrase);
    await openView(page, 'verify', paul.id);
    await page.waitForSelector('[data-testid="pin-state"]');
    const alarm = page.locator('[data-testid="pin-state"]');
    const text = await alarm.textContent();
    const number = await numberShown(page);
    values.number = number;
    check(await state(page) === 'changed' && await alarm.getAttribute('role') === 'alert'
      && /clé d’identité de ce collègue a changé/.test(text) && /ne sont plus partagées/.test(text)
      && /nouveau numéro de sécurité/.test(text) && number !== cfg.oldNumber,
    'another identity key from the server: an alarm saying what it means, and a new number to compare',
    `${await state(page)} | ${text} | ${number}`);

    step('accept the new key');
    await page.getByRole('button', { name: 'Les numéros sont identiques' }).click();
    await page.waitForSelector('[data-testid="pin-state"][data-state="verified"]');
    await page.reload();
    await unlock(page, cfg.passphrase);
    await openView(page, 'verify', paul.id);
    await page.waitForSelector('[data-testid="pin-state"]');
    check(await state(page) === 'verified' && await numberShown(page) === number
      && await page.getByRole('button', { name: 'Les numéros sont identiques' }).count() === 0,
    'confirming the new number accepts the new key: verified, and still so after a reload',
    await state(page));
    return;
  }

  step('enrol');
  await page.goto(cfg.url);
  await enrol(page, cfg.code, cfg.passphrase);
  await openView(page, 'account');
  values.me = await page.locator('[data-testid="whoami"]').getAttribute('data-user');

  step('navigation');
  await page.getByRole('link', { name: 'Vérifier un collègue' }).click();
  await view('verify');
  const h1 = await page.locator('h1').textContent();
  check(h1 === 'Vérifier un collègue' && await html('viewArg') === '',
    'the navigation bar leads to "Vérifier un collègue"', h1);

  step('search');
  await page.getByLabel('Nom ou numéro RPPS').fill('durand');
  await page.keyboard.press('Enter');
  const link = page.locator(`[data-testid="verify-results"] a[data-user="${paul.id}"]`);
  await link.waitFor();
  const item = await page.locator('[data-testid="verify-results"] li').first().textContent();
  check(await link.textContent() === paul.name && /Pharmacien/.test(item) && /Pharmacie du Centre/.test(item)
    && await link.getAttribute('href') === `#/verify/${paul.id}`,
  'the directory search finds the colleague, with profession and organisation, linked to #/verify/<id>', item);

  step('colleague');
  await link.click();
  await page.waitForSelector(`html[data-view="verify"][data-view-arg="${paul.id}"]`);
  await page.waitForSelector('[data-testid="pin-state"]');
  const number = await numberShown(page);
  const lines = await page.locator('[data-testid="safety-number"] span').allTextContents();
  values.number = number;
  check(/^\d{5}( \d{5}){11}$/.test(number) && lines.length === 2 && lines.every((l) => /^\d{5}( \d{5}){5}$/.test(l))
    && await page.locator('h1').textContent() === `Vérifier ${paul.name}` && await state(page) === 'unverified',
  'the colleague\'s page: the safety number in 12 groups of 5 on two lines (as liaison verify), not verified yet',
  `${JSON.stringify(lines)} ${await state(page)}`);
  await shot('web-verify-1-number');

  step('qr');
  const qr = await readQr(page);
  values.qr = qr && { modules: qr.modules, quiet: qr.quiet, dark: qr.dark };
  check(qr && qr.modules >= 21 && qr.quiet === 4 && qr.dark.length > 100 && qr.width >= 200
    && qr.width === qr.height && qr.role === 'img' && qr.label.includes(number)
    && qr.bg === '#fff' && qr.darkFill === '#000',
  'a QR code is drawn with SVG elements: square, at least 200 px, black on white with its quiet zone, named for screen readers',
  qr && `${qr.modules} modules, ${qr.dark.length} dark, ${qr.width}x${qr.height} px`);

  step('axe');
  const serious = (await axe(page, cfg.web)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(serious.length === 0, 'axe-core: no serious or critical violation on the colleague\'s page',
    serious.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.join(' | ')})`).join('\n'));

  step('tablet');
  await page.setViewportSize({ width: 768, height: 1024 });
  const wide = await overflow(page);
  const fit = await page.evaluate(() => {
    const svg = document.querySelector('svg.qr').getBoundingClientRect();
    return [svg.left, svg.right, svg.width];
  });
  await page.setViewportSize({ width: 1366, height: 768 });
  check(wide.length === 0 && fit[0] >= 0 && fit[1] <= 768 && fit[2] >= 200,
    'on a tablet (768×1024) the number and the QR code fit the width, no sideways scrolling',
    `${wide.join(' ; ')} qr ${JSON.stringify(fit)}`);

  step('they differ');
  await page.getByRole('button', { name: 'Ils diffèrent' }).click();
  const differ = page.locator('[data-testid="numbers-differ"]');
  await differ.waitFor();
  const advice = await differ.textContent();
  await openView(page, 'verify');
  await openView(page, 'verify', paul.id);
  await page.waitForSelector('[data-testid="pin-state"]');
  check(/n’échangez rien/.test(advice) && /Appelez-le/.test(advice) && /administrateur/.test(advice)
    && await differ.getAttribute('role') === 'alert' && await state(page) === 'unverified',
  '"Ils diffèrent": what to do (exchange nothing, call the colleague, tell the administrator); nothing is recorded',
  advice);

  step('identical');
  await page.getByRole('button', { name: 'Les numéros sont identiques' }).click();
  await page.waitForSelector('[data-testid="pin-state"][data-state="verified"]');
  const verified = await page.locator('[data-testid="pin-state"]').textContent();
  check(/^Vérifié le \d{2}\/\d{2}\/\d{4}/.test(verified)
    && await page.getByRole('button', { name: 'Les numéros sont identiques' }).count() === 0,
  '"Les numéros sont identiques": the colleague is marked verified, with the date', verified);

  step('own id, unknown id');
  await openView(page, 'verify', values.me);
  const self = await b.alert();
  await openView(page, 'verify', '0'.repeat(32));
  const unknown = await b.alert();
  check(/^C’est vous/.test(self) && /^Le serveur ne connaît pas cet utilisateur\u00a0: .*\(not_found\)\.$/.test(unknown),
    '#/verify with one\'s own id says "C’est vous"; an unknown id gets not_found in French', `${self} | ${unknown}`);

  step('reload');
  await page.reload();
  await unlock(page, cfg.passphrase);
  await openView(page, 'verify', paul.id);
  await page.waitForSelector('[data-testid="pin-state"]');
  check(await state(page) === 'verified' && await page.locator('[data-testid="pin-state"]').textContent() === verified
    && await numberShown(page) === number,
  'after a reload and unlock, #/verify/<id> still shows the colleague verified, same date (kept in the vault)',
  await page.locator('[data-testid="pin-state"]').textContent());
});
