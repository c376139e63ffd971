// web_cases.mjs — the browser half of test_web_cases.py: Debian's Chromium
// (playwright-core) enrols as a GP (phase "enrol"); then (phase "main"),
// once the real CLI has opened a hospital discharge case with the browser's
// user as the GP and posted the discharge notice: "Mes dossiers" lists it,
// the case view shows the notice unacknowledged and "Accuser réception"
// acknowledges it; the CLI's coordinator hands two steps to the browser's
// user and the open view shows it without a reload (a `case` event); the
// browser completes one step, skips one with a reason and reschedules one
// (a past date is refused in the page, no request sent); the CLI's alert
// arrives live as a notification (counted in <html data-notified>, the nav's
// badge), listed in "À traiter" and marked seen. The CLI runs from here
// (cfg.cli: argv and environment per profile). One JSON line per check.
// Usage: node web_cases.mjs CONFIG_JSON
import { execFile } from 'node:child_process';
import { launch, enrol, unlock, openView, axe } from './web_lib.mjs';

const cfg = JSON.parse(process.argv[2]);
// the coordinator's phase on a tablet
const b = await launch(cfg, cfg.phase === 'coordinator' ? { viewport: { width: 768, height: 1024 } } : {});
const { values, check, shot, html } = b;
// axe-core (WCAG 2.1 A/AA and best practices, web_lib.mjs): no serious or critical finding
async function accessible(page, what) {
  const found = (await axe(page, cfg.web)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(found.length === 0, `axe-core: no serious or critical violation on ${what}`,
    found.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.join(' | ')})`).join('\n'));
}

function cli(who, ...args) {
  const c = cfg.cli[who];
  return new Promise((resolve) => {
    execFile(c.argv[0], [...c.argv.slice(1), ...args], { env: { ...process.env, ...c.env }, timeout: 120000 },
      (err, stdout, stderr) => resolve({ rc: err ? (err.code ?? -1) : 0, stdout, stderr }));
  });
}

await b.run(async ({ page, step }) => {
  if (cfg.phase === 'enrol') {
    step('enrol');
    await page.goto(cfg.url);
    await enrol(page, cfg.code, cfg.passphrase, 'Navigateur du cabinet');
    await openView(page, 'account');
    const me = await page.evaluate(() => document.querySelector('[data-testid="whoami"]')?.dataset.user || '');
    values.user = me;
    check(/^[0-9a-f]{32}$/.test(me), 'the browser is enrolled', me);
    return;
  }

  if (cfg.phase === 'coordinator') {
    // a CPTS coordinator outside the thread, after the clock moved 3 days
    step('coordinator unlock');
    await page.goto(cfg.url);
    await unlock(page, cfg.passphrase);
    await openView(page, 'cases');
    await page.waitForSelector('[data-testid="no-cases"]');
    check(await page.locator(`tr[data-ref="${cfg.ref}"]`).count() === 0,
      'a coordinator outside the thread: not among her own cases');
    step('all');
    await page.getByLabel('Tous les dossiers de la CPTS').check();
    const row = page.locator(`tr[data-ref="${cfg.ref}"]`);
    await row.waitFor();
    const rowText = (await row.textContent()) || '';
    check(Number(await row.getAttribute('data-overdue')) >= 1, '"Tous les dossiers de la CPTS" lists it, with its late steps counted', rowText);
    const late = page.locator(`[data-testid="late-table"] tr[data-case="${cfg.caseHex}"]`);
    await late.first().waitFor();
    const lateText = (await page.locator('[data-testid="late-table"]').textContent()) || '';
    check(await late.count() === cfg.lateCodes.length && cfg.lateCodes.every((code) => lateText.includes(code)),
      'the late steps of the CPTS: the same steps as the CLI\'s cases --late', `${lateText} / ${cfg.lateCodes.join(' ')}`);
    step('coordinator case');
    await row.getByRole('link', { name: cfg.ref }).click();
    await page.waitForSelector(`html[data-view="case"][data-view-arg="${cfg.caseHex}"]`);
    const call = page.locator('li[data-step-code="coordinator_call"]');
    const patient = (await page.locator('dd[data-field="patient"]').textContent()) || '';
    check(await call.getAttribute('data-state') === 'overdue' && await call.getByRole('button').count() === 3
      && await page.getByRole('link', { name: 'Ouvrir le fil du dossier' }).count() === 0
      && /seuls les membres/.test(patient) && await page.getByRole('button', { name: 'Accuser réception' }).count() === 0,
    'the case for the coordinator: coordinator_call overdue with its buttons; no thread link, no ack (not a member)',
    `${await call.textContent()} / ${patient}`);
    await accessible(page, 'the coordinator\'s case view on a tablet');
    const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    if (cfg.tabletShot) await page.screenshot({ path: cfg.tabletShot, fullPage: true });
    check(widths[0] <= widths[1], 'on a tablet (768×1024) the case view needs no horizontal scrolling', widths.join(' ≤ '));
    return;
  }

  // every frame the page sends, to prove a refused date never left it
  const sent = [];
  const trace = []; // the frames with their time, for the Python side's diagnostics
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => {
      try { sent.push(JSON.parse(f.payload)); } catch { /* not JSON */ }
      trace.push(`${Date.now()} sent ${String(f.payload).slice(0, 100)}`);
    });
    ws.on('framereceived', (f) => { trace.push(`${Date.now()} received ${String(f.payload).length} B ${String(f.payload).slice(0, 100)}`); });
  });
  values.trace = trace;
  step('unlock');
  await page.goto(cfg.url);
  await unlock(page, cfg.passphrase);
  const me = cfg.user;

  // ---- Mes dossiers ----
  step('list');
  await openView(page, 'cases');
  const row = page.locator(`tr[data-ref="${cfg.ref}"]`);
  await row.waitFor();
  const rowText = (await row.textContent()) || '';
  check(await row.getAttribute('data-case') === cfg.caseHex
    && rowText.includes(cfg.pathwayLabel) && await row.getAttribute('data-ack-missing') === '3'
    && /3 accusés manquants/.test(rowText),
  'Mes dossiers lists the case: P-… reference, pathway label, notice not acknowledged', rowText);
  check(!rowText.includes(cfg.patientFamily), 'the list holds no patient name (only the P-… reference)', rowText);
  await page.getByLabel('Parcours').selectOption('heart_failure');
  await page.waitForSelector('[data-testid="no-cases"]');
  await page.getByLabel('Parcours').selectOption('hospital_discharge');
  await row.waitFor();
  check(true, 'the pathway filter hides it under heart failure and shows it under hospital discharge');
  await page.getByLabel('En retard seulement').check();
  await page.waitForSelector('[data-testid="no-cases"]');
  await page.getByLabel('En retard seulement').uncheck();
  await row.waitFor();
  check(true, '"En retard seulement" hides it (nothing is late yet)');
  await shot('web-cases-1-list');
  await accessible(page, 'Mes dossiers with a case');

  // ---- the case, the notice ----
  step('case');
  await row.getByRole('link', { name: cfg.ref }).click();
  await page.waitForSelector(`html[data-view="case"][data-view-arg="${cfg.caseHex}"]`);
  const count = page.locator('[data-testid="ack-count"]');
  await count.waitFor();
  const missingText = (await page.locator('[data-testid="missing"]').textContent()) || '';
  check(await count.getAttribute('data-acknowledged') === '0' && await count.getAttribute('data-expected') === '3'
    && missingText.includes(cfg.name) && missingText.includes('Julie Bernard') && missingText.includes('Paul Durand'),
  'the case view: the notice 0/3 acknowledged, the three recipients named as missing', `${await count.textContent()} / ${missingText}`);
  const threadLink = page.getByRole('link', { name: 'Ouvrir le fil du dossier' });
  check(await threadLink.getAttribute('href') === `#/thread/${cfg.channel}`
    && await page.getByRole('link', { name: 'Saisir une mesure' }).getAttribute('href') === `#/measure/${cfg.caseHex}`
    && await page.getByRole('link', { name: 'Poster l’avis de sortie' }).count() === 0,
  'links to the case thread and to "Saisir une mesure"; no "Poster l’avis de sortie" for a GP', await threadLink.getAttribute('href'));
  // the notice decrypted here from the CLI's message, before the acknowledgement
  const content = page.locator('[data-testid="notice-content"][data-state="ok"]');
  await content.waitFor({ timeout: 90000 }).catch(async (e) => {
    throw new Error(`${e.message}\nnotice-content: ${await page.locator('[data-testid="notice-content"]').textContent()}`);
  });
  const contentText = (await content.textContent()) || '';
  const patientFact = (await page.locator('dd[data-field="patient"]').textContent()) || '';
  check(contentText.includes(`${cfg.patientFamily} ${cfg.patientGiven}`) && contentText.includes('diltiazem')
    && contentText.includes('Traitements arrêtés') && patientFact.includes(cfg.patientFamily),
  'the discharge notice posted by the CLI is decrypted in the page and shown (patient, treatments stopped)', `${patientFact} / ${contentText.slice(0, 300)}`);
  await page.getByRole('button', { name: 'Accuser réception' }).click();
  await page.waitForSelector('[data-testid="ack-count"][data-acknowledged="1"]');
  const acks = (await page.locator('[data-testid="acks"]').textContent()) || '';
  const still = (await page.locator('[data-testid="missing"]').textContent()) || '';
  check(acks.includes(cfg.name) && !still.includes(cfg.name) && still.includes('Julie Bernard')
    && await page.locator('[data-testid="acked"]').count() === 1
    && await page.getByRole('button', { name: 'Accuser réception' }).count() === 0,
  '"Accuser réception": 1/3, the browser\'s user listed as having acknowledged, the others still missing, the button gone', `${acks} / ${still}`);

  // ---- steps: who may act ----
  step('steps');
  const li = (code) => page.locator(`li[data-step-code="${code}"]`);
  const buttons = async (code) => li(code).getByRole('button').count();
  check(await buttons('gp_consultation') === 3 && await buttons('nurse_first_visit') === 0
    && await buttons('dispensing_reconciliation') === 0 && await buttons('readmission_check') === 0,
  'actions only on the GP\'s own step (gp_consultation), none on the nurse\'s, the pharmacist\'s or the coordinator\'s',
  `${await buttons('gp_consultation')} ${await buttons('nurse_first_visit')} ${await buttons('dispensing_reconciliation')}`);
  const order = await page.locator('ol.timeline li').evaluateAll((els) => els.map((e) => e.dataset.due || '~'));
  const stray = await page.evaluate(() => /null|undefined|NaN/.exec(document.getElementById('view').textContent));
  check(order.length === 9 && order.join() === [...order].sort().join() && stray === null,
    'the timeline has the 9 steps in deadline order, the one without deadline last; no "null" or "undefined" shown',
    `${order.join(' ')} ${stray}`);

  // ---- a case event from the CLI updates the open view ----
  step('live case event');
  await page.evaluate(() => { window.__sameDocument = 'yes'; });
  const r1 = await cli('coordinator', 'case', 'step', 'assign', cfg.ref, 'nurse_first_visit', cfg.name);
  const r2 = await cli('coordinator', 'case', 'step', 'assign', cfg.ref, 'dispensing_reconciliation', cfg.name);
  check(r1.rc === 0 && r2.rc === 0, 'the CLI\'s coordinator hands nurse_first_visit and dispensing_reconciliation to the browser\'s user',
    `${r1.stdout}${r1.stderr}${r2.stdout}${r2.stderr}`);
  await page.waitForSelector(`li[data-step-code="dispensing_reconciliation"][data-assignee="${me}"] button`, { timeout: 15000 });
  await page.waitForSelector(`li[data-step-code="nurse_first_visit"][data-assignee="${me}"] button`, { timeout: 15000 });
  check(await page.evaluate(() => window.__sameDocument) === 'yes'
    && ((await li('nurse_first_visit').textContent()) || '').includes(`Confiée à ${cfg.name}`),
  'the open case view shows the new assignee and its buttons without a reload (case event)', await li('nurse_first_visit').textContent());

  // ---- complete, skip, reschedule ----
  step('complete');
  await li('gp_consultation').getByRole('button', { name: /^Fait :/ }).click();
  await page.waitForSelector('li[data-step-code="gp_consultation"][data-status="done"]');
  const doneText = (await li('gp_consultation').textContent()) || '';
  check(doneText.includes(`par ${cfg.name}`) && await buttons('gp_consultation') === 0,
    '"Fait": gp_consultation done by the browser\'s user, no more buttons', doneText);

  step('skip');
  // with the keyboard only: the button focused, Entrée, the reason with the
  // arrow keys, Tab to the confirmation, Entrée; Échap closes the form
  const active = () => page.evaluate(() => {
    const a = document.activeElement;
    return a ? `${a.tagName.toLowerCase()}:${a.id || a.textContent.trim().slice(0, 30)}` : '';
  });
  await li('nurse_first_visit').getByRole('button', { name: /^Non fait \(motif\)/ }).focus();
  await page.keyboard.press('Enter');
  await li('nurse_first_visit').locator('form[data-form="skip"]').waitFor();
  const reasons = await li('nurse_first_visit').locator('select option').allTextContents();
  const firstFocus = await active();
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('form[data-form="skip"]'));
  const afterEscape = await active();
  check(reasons.includes('Non indiquée') && reasons.includes('Refus du patient') && reasons.length === 8
    && firstFocus.startsWith('select:') && afterEscape.startsWith('button:'),
  'keyboard: Entrée opens the form on the reason (7 in French and the prompt), Échap closes it back to the step\'s buttons',
  `${reasons.join(' | ')} / ${firstFocus} / ${afterEscape}`);
  await li('nurse_first_visit').getByRole('button', { name: /^Non fait \(motif\)/ }).focus();
  await page.keyboard.press('Enter');
  await li('nurse_first_visit').locator('form[data-form="skip"]').waitFor();
  await page.keyboard.press('Tab'); // to "Confirmer : non faite"
  await page.keyboard.press('Enter');
  const noReason = (await li('nurse_first_visit').locator('[role=alert]').textContent()) || '';
  check(/motif/.test(noReason) && !sent.some((f) => f.op === 'step_skip'),
    'without a reason the page refuses, nothing sent', noReason);
  await li('nurse_first_visit').getByLabel('Motif').focus();
  await page.keyboard.press('ArrowDown'); // patient_declined
  await page.keyboard.press('ArrowDown'); // not_indicated
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.waitForSelector('li[data-step-code="nurse_first_visit"][data-status="skipped"]');
  const skipText = (await li('nurse_first_visit').textContent()) || '';
  check(skipText.includes('Non indiquée') && skipText.includes(cfg.name),
    '"Non fait (motif)" with the keyboard: nurse_first_visit not done, "Non indiquée", by the browser\'s user', skipText);

  step('reschedule');
  const days = await page.evaluate(() => {
    const t = new Date();
    const f = (n) => { const d = new Date(t.getFullYear(), t.getMonth(), t.getDate() + n);
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; };
    return { past: f(-1), later: f(5) };
  });
  values.newDue = days.later;
  await li('dispensing_reconciliation').getByRole('button', { name: /^Reporter/ }).click();
  const form = li('dispensing_reconciliation').locator('form[data-form="reschedule"]');
  await form.getByLabel('Nouvelle date').fill(days.past);
  await form.getByLabel('Motif').selectOption('patient_request');
  const before = sent.length;
  await form.getByRole('button', { name: 'Confirmer le report' }).click();
  const pastErr = (await form.locator('[role=alert]').textContent()) || '';
  await page.waitForTimeout(300);
  check(/passée/.test(pastErr) && !sent.slice(before).some((f) => f.op === 'step_reschedule')
    && await li('dispensing_reconciliation').getAttribute('data-status') === 'pending',
  'a new date in the past is refused in the page, before anything is sent', pastErr);
  await form.getByLabel('Nouvelle date').fill(days.later);
  await form.getByRole('button', { name: 'Confirmer le report' }).click();
  await page.waitForSelector(`li[data-step-code="dispensing_reconciliation"][data-due="${days.later}"]`);
  const hist = li('dispensing_reconciliation').locator('[data-testid="history"]');
  const histText = (await hist.textContent()) || '';
  check(await hist.getAttribute('data-reason') === 'patient_request' && histText.includes('À la demande du patient')
    && histText.includes(cfg.name),
  '"Reporter": dispensing_reconciliation moved to the new day, its history says who and why in French', histText);
  const sentReschedule = sent.filter((f) => f.op === 'step_reschedule');
  check(sentReschedule.length === 1 && sentReschedule[0].due === days.later && sentReschedule[0].reason === 'patient_request',
    'exactly one step_reschedule was sent, with the date and the reason code', JSON.stringify(sentReschedule));
  await page.locator('[data-testid="timeline"] h2').scrollIntoViewIfNeeded();
  await page.evaluate(() => document.querySelector('[data-testid="timeline"]').scrollIntoView());
  await shot('web-cases-2-timeline');
  await li('gp_consultation').waitFor();
  await li('readmission_check').waitFor();
  await page.locator('li[data-step-code="dispensing_reconciliation"]').getByRole('button', { name: /^Reporter/ }).click();
  await accessible(page, 'the case view (notice, timeline, a reschedule form open)');
  await page.keyboard.press('Escape');

  // ---- a live notification (an alert by the CLI) ----
  step('notification');
  const notified = Number(await html('notified')) || 0;
  check(await page.locator('nav a[data-view="notifications"] .badge').count() === 0,
    'nothing to handle yet: no badge on "À traiter"', String(notified));
  const r3 = await cli('discharge', 'alert', cfg.ref, cfg.alertText);
  await page.waitForFunction((n) => Number(document.documentElement.dataset.notified) > n, notified, { timeout: 15000 });
  await page.waitForSelector('nav a[data-view="notifications"][data-badge="1"]', { timeout: 15000 });
  check(r3.rc === 0 && await page.evaluate(() => window.__sameDocument) === 'yes',
    'the CLI\'s alert arrives live: counted in data-notified, badge 1 on "À traiter"', `${r3.stdout}${r3.stderr}`);
  await openView(page, 'notifications');
  const note = page.locator('li[data-kind="alert"]');
  await note.waitFor();
  const noteText = (await note.textContent()) || '';
  check(await note.getAttribute('data-case') === cfg.caseHex && noteText.includes(cfg.ref)
    && !noteText.includes(cfg.alertText) && await page.getByRole('button', { name: 'Activer les notifications' }).count() === 1,
  '"À traiter" lists the alert with its case (no text from the thread); the permission button is offered', noteText);
  await page.getByRole('button', { name: 'Marquer comme vu' }).click();
  await page.waitForSelector('[data-testid="none"]');
  await page.waitForSelector('nav a[data-view="notifications"]:not([data-badge])');
  check(true, '"Marquer comme vu": the list is empty and the badge gone');
});
