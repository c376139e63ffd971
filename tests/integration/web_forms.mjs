// web_forms.mjs — the browser half of test_web_forms.py: the discharge
// notice form and the measurement form, driven as a user would (typing,
// Tab to leave a field, clicking), on the page a real liaisond serves.
// Phases: "enrol" (the browser becomes a device), "forms" (the notice of
// cfg.notice_case, the measurements of cfg.hf_case). Prints one JSON line
// per check and {"values": …} for the Python side.
// Usage: node web_forms.mjs CONFIG_JSON
import { launch, enrol, unlock, openView, axe, overflow } from './web_lib.mjs';

// today as this browser's calendar shows it (TZ: webdrive.py sets the
// clinicians' zone), not UTC's date
function localDay(now = new Date()) {
  const p = (n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`;
}

const cfg = JSON.parse(process.argv[2]);
const b = await launch(cfg);
const { values, check, shot } = b;

// axe-core (web_lib.mjs, the a11y test's tags): the serious and critical violations
async function serious(page) {
  return (await axe(page, cfg.web)).filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.targets.join(', ')})`);
}

await b.run(async ({ page, step }) => {
  if (cfg.phase === 'enrol') {
    step('enrol');
    await page.goto(cfg.url);
    await enrol(page, cfg.code, cfg.passphrase, 'Poste du service');
    await openView(page, 'account');
    const user = await page.locator('[data-testid="whoami"]').getAttribute('data-user');
    values.user = user;
    check(/^[0-9a-f]{32}$/.test(user || ''), 'the browser is enrolled and shows its user', user);
    return;
  }

  const input = (p) => page.locator(`[data-path="${p}"]`);
  // the message next to a field: aria-invalid, and the text of the element
  // its aria-describedby names that holds the error
  const errorOf = (p) => page.evaluate((pp) => {
    const el = document.querySelector(`[data-path="${pp}"]`);
    const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    const err = ids.map((id) => document.getElementById(id)).find((x) => x && x.classList.contains('field-error'));
    return { invalid: el.getAttribute('aria-invalid') === 'true', text: err && !err.hidden ? err.textContent : null };
  }, p);
  const type = async (p, v) => {
    const el = input(p);
    if (await el.evaluate((x) => x.tagName) === 'SELECT') await el.selectOption(v);
    else await el.fill(v);
    await el.press('Tab');
  };

  step('unlock');
  await page.goto(cfg.url);
  await unlock(page, cfg.passphrase);
  // the home view rendered first: the shell does not drop a render that
  // ends after the next view's (a slow home would replace the form)
  await page.waitForSelector('html[data-view]');

  // ---- the discharge notice ----------------------------------------------------
  step('the notice form');
  await openView(page, 'discharge', cfg.notice_case);
  // the view's text with the timeout, should the form not come (an error said in the page)
  await page.waitForSelector('form.notice-form').catch(async (e) => {
    throw new Error(`${e.message}\nthe page says: ${await page.locator('#view').textContent()}`);
  });
  const j0 = await input('discharge_date').inputValue();
  const ro = await input('discharge_date').getAttribute('readonly');
  check(j0 === localDay() && ro !== null &&
    /Doivent accuser réception : .*Dr Louis Petit/.test(await page.getByTestId('recipients').textContent()),
  'the notice form of the case: the discharge day is the case\'s J0 (read-only), the recipients named', j0);

  step('typing the notice');
  for (const [p, v] of Object.entries(cfg.fields)) await type(p, v);
  await type('patient.ins', cfg.bad_ins);
  const ins = await errorOf('patient.ins');
  check(ins.invalid && ins.text === cfg.bad_ins_msg,
    'leaving the INS field: aria-invalid, and next to it (aria-describedby) the message liaison discharge --check prints',
    JSON.stringify(ins));
  const okField = await errorOf('patient.family_name');
  const untouched = await errorOf('follow_up.monitoring');
  check(!okField.invalid && okField.text === null && !untouched.invalid,
    'a right field shows nothing; an empty field only tabbed through shows nothing yet', JSON.stringify([okField, untouched]));
  await page.evaluate(() => { document.activeElement.blur(); window.scrollTo(0, 0); });
  await shot('web-discharge-1-form');

  step('a submit with problems');
  await page.getByRole('button', { name: 'Publier l’avis de sortie' }).click();
  await page.waitForSelector('[role=alert]:not(:empty)');
  const said = await page.locator('.status[role=alert]').textContent();
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.dataset.path);
  const mon = await errorOf('follow_up.monitoring');
  check(/^2 problèmes dans l’avis : rien n’a été envoyé/.test(said) && focused === 'patient.ins' &&
    mon.invalid && mon.text === cfg.monitoring_msg && await page.getByTestId('notice-result').count() === 0,
  'the submit is blocked: both problems said, each next to its field (the empty monitoring too, as the CLI says it), ' +
  'the focus on the first', JSON.stringify({ said, focused, mon }));

  step('a treatment');
  await page.getByRole('button', { name: 'Ajouter un traitement de sortie' }).click();
  await type('discharge_treatments[0].drug', cfg.treatment.drug);
  await input('discharge_treatments[0].dose').fill('2');
  await input('discharge_treatments[0].dose').fill('');
  await input('discharge_treatments[0].dose').press('Tab');
  const dose = await errorOf('discharge_treatments[0].dose');
  check(dose.invalid && /^manquant : ajoutez la dose à chaque prise/.test(dose.text || ''),
    'an added treatment: its dose typed then emptied is said missing as it is left', JSON.stringify(dose));
  for (const [k, v] of Object.entries(cfg.treatment)) await type(`discharge_treatments[0].${k}`, v);

  step('corrections');
  await type('patient.ins', cfg.good_ins);
  await type('follow_up.monitoring', cfg.monitoring);
  const after = await page.evaluate(() => document.querySelectorAll('[aria-invalid="true"]').length);
  check(after === 0, 'corrected, no field is in error any more', String(after));
  const violations = await serious(page);
  const wide = await overflow(page);
  await page.setViewportSize({ width: 768, height: 1024 });
  const tablet = await overflow(page);
  await page.setViewportSize({ width: 1366, height: 768 });
  check(violations.length === 0 && wide.length === 0 && tablet.length === 0,
    'axe-core: no serious violation on the notice form; nothing wider than the window at 1366×768 nor on a tablet',
    [...violations, ...wide, ...tablet].join('\n'));

  step('the letter');
  await page.getByLabel('Lettre de liaison (PDF)').setInputFiles({ name: 'lettre-de-liaison.pdf',
    mimeType: 'application/pdf', buffer: Buffer.from(cfg.letter_b64, 'base64') });

  step('posting the notice');
  await page.getByRole('button', { name: 'Publier l’avis de sortie' }).click();
  await page.waitForSelector('[data-testid="notice-result"]', { timeout: 60000 });
  const seqText = await b.field('seq');
  values.notice_seq = Number(seqText.replace(/\D/g, ''));
  const rec = await b.field('recipients');
  const steps = await b.field('steps_done');
  const letterText = await b.field('letter');
  check(/^3 personnes/.test(rec) && /discharge_notice/.test(steps) && /discharge_letter/.test(steps) &&
    /^lettre-de-liaison\.pdf .*chiffrée et jointe/.test(letterText) && values.notice_seq > 0,
  'posted with the letter: the server recorded 3 recipients and the steps discharge_notice and discharge_letter done',
  `${seqText} | ${rec} | ${steps} | ${letterText}`);

  // ---- measurements ------------------------------------------------------------
  step('the measurement form');
  await openView(page, 'measure', cfg.hf_case);
  await page.waitForSelector('[data-measure="weight"]');
  const rules = await page.locator('ul.hint').textContent();
  check(/weight_gain/.test(rules) && /hyperkalaemia/.test(rules),
    'the pathway\'s thresholds, from op pathways, are listed', rules);
  const weight = page.locator('[data-measure="weight"]');
  await weight.fill('400');
  await weight.press('Tab');
  const w = await page.evaluate(() => {
    const el = document.querySelector('[data-measure="weight"]');
    const err = document.getElementById(`${el.id}-err`);
    return { invalid: el.getAttribute('aria-invalid') === 'true', text: err.hidden ? null : err.textContent,
      linked: (el.getAttribute('aria-describedby') || '').includes(err.id) };
  });
  check(w.invalid && w.linked && w.text === cfg.weight_msg,
    'a weight of 400 kg is refused as it is left, with the message liaison measure prints', JSON.stringify(w));

  step('a first weight');
  const date = page.getByLabel('Date de la mesure');
  await date.fill(cfg.w1_at);
  await weight.fill(cfg.w1);
  await page.getByRole('button', { name: 'Enregistrer la mesure' }).click();
  await page.waitForSelector('[data-field="measurement"]', { timeout: 60000 });
  const first = await page.getByTestId('measure-result').textContent();
  check(/Aucun seuil de heart_failure franchi/.test(first) && first.includes('80,35 kg'),
    'a first weight crosses nothing', first);

  step('a weight 2 kg higher');
  await date.fill(localDay());
  await weight.fill(cfg.w3);
  await page.getByRole('button', { name: 'Enregistrer la mesure' }).click();
  await page.waitForSelector('[data-alert="weight_gain"]', { timeout: 60000 });
  const alert = await page.locator('[data-alert="weight_gain"]').textContent();
  check(/alerte envoyée à 2 personnes : /.test(alert) && alert.includes('Dr Claire Martin') &&
    alert.includes('Dr Louis Petit'), '+2.0 kg in 3 days raises weight_gain: "alerte envoyée à 2 personnes"', alert);
  await shot('web-measure-1');

  step('the thread views');
  await openView(page, 'thread', cfg.hf_channel);
  await page.waitForSelector('.measure-msg >> nth=1', { timeout: 60000 });
  const measures = await page.locator('.measure-msg').allTextContents();
  const clinical = await page.locator('.alert-msg').allTextContents();
  check(measures.some((t) => t.includes('poids 80,35 kg')) && measures.some((t) => t.includes('poids 82,35 kg')) &&
    clinical.some((t) => t.includes('ALERTE — priorité haute') && t.includes(cfg.clinical_text)),
  'the case thread shows the measurements and the CLI\'s alert in French', [...measures, ...clinical].join(' | '));
  await openView(page, 'thread', cfg.notice_channel);
  await page.waitForSelector('.notice-msg', { timeout: 60000 });
  const noticeText = await page.locator('.notice-msg').first().textContent();
  check(noticeText.includes('AVIS DE SORTIE') && noticeText.includes('LEMAIRE Odette Marie') &&
    noticeText.includes('domicile avec soins') && noticeText.includes('bisoprolol 2,5 mg, 1 fois par jour'),
  'the notice is shown in its thread, in French', noticeText);
  const mv = await serious(page);
  await page.setViewportSize({ width: 768, height: 1024 });
  const mt = await overflow(page);
  await page.setViewportSize({ width: 1366, height: 768 });
  check(mv.length === 0 && mt.length === 0, 'axe-core: no serious violation on the measurement form; fits a tablet',
    [...mv, ...mt].join('\n'));
});
