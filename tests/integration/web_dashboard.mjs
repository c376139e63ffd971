// web_dashboard.mjs — the browser half of test_web_dashboard.py: Debian's
// Chromium (playwright-core) enrols the CPTS coordinator (phase "enrol"); a
// GP in another profile has no « Tableau de bord » (phase "other"); then
// (phase "main"), once the CLI has built the fixture, the coordinator's
// dashboard is compared with what the Python side got from the CLI
// (cfg.computed, cfg.hand, cfg.late, cfg.unacked, cfg.alerts): figures, late
// steps, notices, escalations, alerts, the patient named only where she is a
// member; then « Réattribuer » and « Reporter », and an acknowledgement by
// the CLI arriving live; axe-core and sideways scrolling at 1366×768 and
// 768×1024. One JSON line per check.
// Usage: node web_dashboard.mjs CONFIG_JSON
import { execFile } from 'node:child_process';
import { launch, enrol, unlock, openView, axe, overflow } from './web_lib.mjs';

const cfg = JSON.parse(process.argv[2]);
const b = await launch(cfg);
const { values, check, html } = b;

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

const KINDS = ['open', 'overdue', 'unacked', 'escalated'];

await b.run(async ({ page, step }) => {
  if (cfg.phase === 'enrol') {
    step('enrol');
    await page.goto(cfg.url);
    await enrol(page, cfg.code, cfg.passphrase, 'Poste de coordination');
    await openView(page, 'account');
    const me = await page.evaluate(() => document.querySelector('[data-testid="whoami"]')?.dataset.user || '');
    values.user = me;
    check(/^[0-9a-f]{32}$/.test(me), 'the coordinator\'s browser is enrolled', me);
    return;
  }

  if (cfg.phase === 'other') {
    step('other enrol');
    await page.goto(cfg.url);
    await enrol(page, cfg.code, cfg.passphrase, 'Navigateur du cabinet');
    check(await page.locator('nav a[data-view="cases"]').count() === 1, 'a GP\'s navigation bar has « Mes dossiers »');
    check(await page.locator('nav a[data-view="dashboard"]').count() === 0
      && await page.getByRole('link', { name: 'Tableau de bord' }).count() === 0,
    'a GP (not a coordinator) has no « Tableau de bord » link');
    await openView(page, 'dashboard');
    const text = (await page.locator('[data-testid="not-coordinator"]').textContent()) || '';
    check(/réservé aux coordinateurs/.test(text) && await page.locator('[data-testid="dashboard"]').count() === 0,
      'a GP opening #/dashboard is told in French it is for coordinators, and sees no figure', text);
    return;
  }

  step('unlock');
  await page.goto(cfg.url);
  await unlock(page, cfg.passphrase);
  check(await page.locator('nav a[data-view="dashboard"]').textContent() === 'Tableau de bord',
    'the coordinator\'s navigation bar has « Tableau de bord »');
  await page.locator('nav a[data-view="dashboard"]').click();
  await b.view('dashboard');
  await page.waitForSelector('html[data-dashboard-loaded]');
  // the names are decrypted after the first drawing: wait for A's
  const A = cfg.cases.A;
  await page.waitForSelector(`[data-testid="late-table"] tr[data-case="${A.hex}"] th[data-named="true"]`, { timeout: 90000 });

  // ---- « Dossiers ouverts » ----
  step('open cases');
  const figures = await page.evaluate((kinds) => {
    const out = {};
    for (const tr of document.querySelectorAll('[data-testid="open-table"] tr[data-pathway]')) {
      out[tr.dataset.pathway] = Object.fromEntries(kinds.map((k) =>
        [k, Number(tr.querySelector(`td[data-kind="${k}"]`).dataset.count)]));
    }
    return out;
  }, KINDS);
  const same = (x, y) => JSON.stringify(Object.keys(x).sort().map((k) => [k, x[k]])) ===
    JSON.stringify(Object.keys(y).sort().map((k) => [k, y[k]]));
  check(same(figures, cfg.computed), '« Dossiers ouverts » equals the counts of the CLI\'s cases --all --json',
    `${JSON.stringify(figures)} / ${JSON.stringify(cfg.computed)}`);
  check(same(figures, cfg.hand), '« Dossiers ouverts » equals the hand-computed figures',
    `${JSON.stringify(figures)} / ${JSON.stringify(cfg.hand)}`);
  await page.locator('tr[data-pathway="hospital_discharge"] td[data-kind="overdue"] button').click();
  const listed = await page.locator('[data-testid="open-list"] li').evaluateAll((els) => els.map((e) => e.dataset.case).sort());
  check(JSON.stringify(listed) === JSON.stringify([A.hex, cfg.cases.C.hex].sort())
    && await page.locator('tr[data-pathway="hospital_discharge"] td[data-kind="overdue"] button').getAttribute('aria-expanded') === 'true',
  'a count opens its list: the late hospital-discharge cases are A and C', listed.join(' '));

  // ---- « Étapes en retard » ----
  step('late steps');
  const rows = await page.locator('[data-testid="late-table"] tbody tr[data-step-id]').evaluateAll((els) => els.map((e) => ({
    step: Number(e.dataset.stepId), case: e.dataset.case, code: e.dataset.code, due: e.dataset.due,
    late: Number(e.querySelector('[data-days-late]').dataset.daysLate), owner: e.querySelector('[data-testid="owner"]').textContent,
  })));
  const dueDay = (ms) => new Date((Math.floor((ms + 1 + 43200000) / 86400000) - 1) * 86400000).toISOString().slice(0, 10);
  const want = cfg.late.map((s) => ({ step: s.step, case: s.case, code: s.occurrence > 1 ? `${s.code}#${s.occurrence}` : s.code,
    due: dueDay(s.due_at), late: s.days_late, owner: s.assignee_name || 'personne' }));
  check(rows.length > 0 && JSON.stringify(rows) === JSON.stringify(want),
    `« Étapes en retard »: the ${want.length} steps of the CLI's cases --late --json, in its order, with due day, days late and holder`,
    `${JSON.stringify(rows)}\n/ ${JSON.stringify(want)}`);

  // ---- notices, escalations, alerts ----
  step('notices');
  const notices = await page.locator('[data-testid="unacked-table"] tbody tr').evaluateAll((els) => els.map((e) => ({
    case: e.dataset.case, seq: Number(e.dataset.seq), missing: e.querySelector('[data-testid="missing"]').textContent,
    escalated: e.dataset.escalated === 'true' })));
  const wantNotices = cfg.unacked.map((n) => ({ case: n.case, seq: n.seq,
    missing: (n.missing_people || []).map((p) => p.name).join(', '), escalated: !!n.escalated_at }));
  check(notices.length === 3 && JSON.stringify(notices) === JSON.stringify(wantNotices),
    '« Avis de sortie non accusés »: the CLI\'s cases --unacked --json, oldest first, who is missing by name',
    `${JSON.stringify(notices)}\n/ ${JSON.stringify(wantNotices)}`);
  const escalated = await page.locator('[data-testid="escalated-table"] tbody tr').evaluateAll((els) => els.map((e) => e.dataset.case));
  const wantEsc = cfg.unacked.filter((n) => n.escalated_at).map((n) => n.case);
  check(escalated.length === 2 && JSON.stringify([...escalated].sort()) === JSON.stringify([...wantEsc].sort())
    && escalated.includes(A.hex) && escalated.includes(cfg.cases.B.hex),
  '« Escalades »: A and B, as escalated in the CLI\'s JSON', `${escalated.join(' ')} / ${wantEsc.join(' ')}`);
  const sinceA = (await page.locator(`[data-testid="unacked-table"] tr[data-case="${A.hex}"] td`).nth(2)
    .textContent({ timeout: 5000 }).catch((e) => e.message)) || '';
  check(/depuis 3 jours/.test(sinceA), 'A\'s notice waits « depuis 3 jours » (the server\'s clock)', sinceA);
  const alerts = await page.locator('[data-testid="alerts-table"] tbody tr').evaluateAll((els) => els.map((e) => ({
    case: e.dataset.case, seq: Number(e.dataset.seq), kind: e.dataset.kind })));
  const wantAlerts = cfg.alerts.map((a) => ({ case: a.case, seq: a.seq, kind: a.kind }));
  check(alerts.length === 3 && JSON.stringify(alerts) === JSON.stringify(wantAlerts),
    '« Alertes de la semaine »: the CLI\'s cases --alerts --json, newest first',
    `${JSON.stringify(alerts)}\n/ ${JSON.stringify(wantAlerts)}`);

  // ---- the patient's name: A only ----
  step('names');
  const text = await page.evaluate(() => document.getElementById('view').textContent);
  const namedCases = await page.locator('[data-named="true"]').evaluateAll((els) => [...new Set(els.map((e) =>
    e.closest('[data-case]')?.dataset.case))]);
  check(text.includes(cfg.named) && JSON.stringify(namedCases) === JSON.stringify([A.hex]),
    'the patient of A (her thread) is named, in every section; no other case is', `${namedCases.join(' ')}`);
  const leaked = cfg.hidden.filter((n) => text.includes(n));
  const stray = /null|undefined|NaN/.exec(text);
  check(leaked.length === 0 && stray === null, 'the other patients\' names are nowhere in the page; no "null" or "undefined"',
    `${leaked.join(', ')} ${stray}`);
  if (cfg.screenshots) await page.screenshot({ path: `${cfg.screenshots}/web-dashboard-1.png`, fullPage: true });
  await accessible(page, 'the dashboard at 1366×768');
  const wide = await overflow(page);
  check(wide.length === 0, 'at 1366×768 nothing scrolls sideways', wide.join('\n'));

  // ---- « Réattribuer » ----
  step('reassign');
  const C = cfg.cases.C;
  const bRow = page.locator(`[data-testid="late-table"] tr[data-case="${C.hex}"][data-code="discharge_reconciliation"]`);
  const stepId = await bRow.getAttribute('data-step-id');
  await bRow.getByRole('button', { name: /^Réattribuer/ }).click();
  const select = page.locator(`#dash-assign-${stepId}`);
  await select.waitFor();
  const options = await select.locator('option').evaluateAll((els) => els.map((e) => e.textContent));
  values.durand = await select.locator('option', { hasText: cfg.assignTo }).getAttribute('value');
  await select.selectOption({ label: options.find((o) => o.startsWith(cfg.assignTo)) });
  await page.getByRole('button', { name: 'Confirmer la réattribution' }).click();
  await page.waitForSelector(`tr[data-step-id="${stepId}"][data-assignee="${values.durand}"]`);
  const owner = (await page.locator(`tr[data-step-id="${stepId}"] [data-testid="owner"]`).textContent()) || '';
  const said = (await page.locator('.dashboard-view > [role]').first().textContent()) || '';
  check(owner === cfg.assignTo && said.includes(`confiée à ${cfg.assignTo}`) && !options.some((o) => /Moi-même/.test(o)),
    '« Réattribuer » C\'s discharge_reconciliation to Paul Durand (a member of C): the row shows him, the page says so',
    `${owner} / ${said} / ${options.join(' | ')}`);

  // ---- « Reporter » ----
  step('reschedule');
  const cRow = page.locator(`[data-testid="late-table"] tr[data-case="${C.hex}"][data-code="coordinator_call"]`);
  const cStep = await cRow.getAttribute('data-step-id');
  // with the keyboard: Entrée opens the form on the date, Échap closes it back to its button
  await cRow.getByRole('button', { name: /^Reporter/ }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((id) => document.activeElement && document.activeElement.id === `dash-resched-${id}-due`, cStep);
  await page.keyboard.press('Escape');
  await page.waitForSelector(`tr[data-form-for="${cStep}"]`, { state: 'detached' });
  const back = await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('aria-label'));
  check(/^Reporter : Appel de suivi/.test(back || ''), 'with the keyboard: Entrée opens « Reporter » on its date, Échap closes it back to its button', back);
  await cRow.getByRole('button', { name: /^Reporter/ }).click();
  await page.locator(`#dash-resched-${cStep}-due`).fill('2020-01-01');
  await page.locator(`#dash-resched-${cStep}-reason`).selectOption('professional_unavailable');
  await page.getByRole('button', { name: 'Confirmer le report' }).click();
  const refused = (await b.alert()) || '';
  await page.locator(`#dash-resched-${cStep}-due`).fill(cfg.newDue);
  await page.getByRole('button', { name: 'Confirmer le report' }).click();
  await page.waitForSelector(`tr[data-step-id="${cStep}"]`, { state: 'detached' });
  const said2 = (await page.locator('.dashboard-view > [role]').first().textContent()) || '';
  check(/passée/.test(refused) && /reportée au/.test(said2) && /Professionnel indisponible/.test(said2),
    '« Reporter » C\'s coordinator_call: a past day refused in the page; the new day with a reason accepted, the step no longer late',
    `${refused} / ${said2}`);

  // ---- live: the events of her own thread (A) ----
  // The server sends a coordinator the case and ack events of the cases
  // whose thread she is in (and her CPTS's notifications): the pharmacist
  // acknowledges A and does his late step with the CLI.
  step('live');
  const before = await html('dashboardLoaded');
  const missingA = page.locator(`[data-testid="unacked-table"] tr[data-case="${A.hex}"] [data-testid="missing"]`);
  const wasMissing = (await missingA.textContent({ timeout: 5000 }).catch(() => '')) || '';
  const r1 = await cli('durand', 'ack', A.ref);
  const r2 = await cli('durand', 'case', 'step', 'complete', A.ref, 'dispensing_reconciliation');
  await page.waitForSelector(`[data-testid="late-table"] tr[data-case="${A.hex}"][data-code="dispensing_reconciliation"]`,
    { state: 'detached', timeout: 20000 });
  await page.waitForFunction((hex) => {
    const td = document.querySelector(`[data-testid="unacked-table"] tr[data-case="${hex}"] [data-testid="missing"]`);
    return td && !td.textContent.includes('Paul Durand');
  }, A.hex, { timeout: 20000 }).catch(() => null);
  const nowMissing = (await missingA.textContent({ timeout: 5000 }).catch(() => '')) || '';
  check(r1.rc === 0 && r2.rc === 0 && wasMissing.includes('Paul Durand') && !nowMissing.includes('Paul Durand')
    && nowMissing.includes('Léa Coordination') && (await html('dashboardLoaded')) !== before,
  'the pharmacist acknowledges A and completes his step with the CLI: the open dashboard follows (ack and case events)',
  `${r1.stderr}${r2.stdout}${r2.stderr} / ${wasMissing} → ${nowMissing}`);

  // ---- a tablet ----
  step('tablet');
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.waitForTimeout(300);
  const narrow = await overflow(page);
  check(narrow.length === 0, 'at 768×1024 nothing scrolls sideways', narrow.join('\n'));
  if (cfg.screenshots) await page.screenshot({ path: `${cfg.screenshots}/web-dashboard-2-tablet.png`, fullPage: true });
  await accessible(page, 'the dashboard at 768×1024');

  // ---- a refusal of the server, in French ----
  // « Reporter » on C's late pharmacy step while the CLI's coordinator closes C
  step('refusal');
  const pRow = page.locator(`[data-testid="late-table"] tr[data-case="${C.hex}"][data-code="dispensing_reconciliation"]`);
  const pStep = await pRow.getAttribute('data-step-id');
  await pRow.getByRole('button', { name: /^Reporter/ }).click();
  await page.locator(`#dash-resched-${pStep}-due`).fill(cfg.newDue);
  await page.locator(`#dash-resched-${pStep}-reason`).selectOption('patient_request');
  const closed = await cli('marc', 'case', 'close', C.ref, '--reason', 'readmitted');
  await page.getByRole('button', { name: 'Confirmer le report' }).click();
  await page.waitForSelector('.dashboard-view > .status.error');
  const refusal = (await page.locator('.dashboard-view > .status.error').textContent()) || '';
  check(closed.rc === 0 && /^Ce dossier est clôturé\s: ses étapes ne changent plus \(case_closed\)\.$/.test(refusal)
    && await page.locator(`tr[data-form-for="${pStep}"]`).count() === 1,
  'the server\'s refusal (C closed meanwhile by the CLI) is said in French with its code; the form stays open',
  `${closed.stderr} / ${refusal}`);
});
