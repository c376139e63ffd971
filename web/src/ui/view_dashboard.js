// « Tableau de bord » (#/dashboard), the CPTS coordinator's view of what is
// late, for coordinators and territory users (in the navigation bar for them
// only; anyone else opening the URL is told it is theirs). Five sections,
// all from metadata the server holds (core/dashboard.js shapes it):
// « Dossiers ouverts » (op cases, all: the open cases by pathway — open,
// late, notice not acknowledged, escalated — each count opening the list of
// its cases), « Étapes en retard » (op late_steps, with « Réattribuer »
// among the case's members from case_get, op step_assign, and « Reporter »,
// op step_reschedule with the server's date rule checked first),
// « Avis de sortie non accusés » and « Escalades » (op unacked_notices),
// « Alertes de la semaine » (op recent_alerts). The patient's name is shown
// only for the cases whose encrypted thread the coordinator is a member of:
// it is decrypted here from the discharge notice (core/index.js messageAt,
// as view_case.js does) and never asked of the server; elsewhere the P-…
// reference. Refreshes on the server's case, ack, alert and notification
// events (deferred while a form is open). <html data-dashboard-loaded>
// changes after each load (the tests wait on it).
import { h, statusLine, serial } from './dom.js';
import * as cases from '../core/cases.js';
import * as dash from '../core/dashboard.js';
import { messageAt } from '../core/index.js';

// case hex → the patient's name (or null when it cannot be read), per connection
const nameCache = new WeakMap();

async function patientName(ctx, caseHex) {
  if (!nameCache.has(ctx.conn)) nameCache.set(ctx.conn, new Map());
  const cache = nameCache.get(ctx.conn);
  if (cache.has(caseHex)) return cache.get(caseHex);
  let name = null;
  try {
    const r = await cases.getCase(ctx.conn, caseHex);
    if (r.member && r.notice) {
      const m = await messageAt(ctx, r.case.channel, r.notice.seq);
      name = m && m.status === 'ok' ? cases.noticePatientName(m.content) : null;
    }
  } catch {
    name = null; // shown by its reference
  }
  if (name) cache.set(caseHex, name); // an unreadable notice is tried again at the next load
  return name;
}

function th(text) {
  return h('th', { scope: 'col', text });
}

function table(testid, caption, heads, rows, foot = null) {
  return h('div', { class: 'dash-table' },
    h('table', { class: 'cases dash', 'data-testid': testid },
      h('caption', { text: caption }),
      h('thead', {}, h('tr', {}, heads.map(th))),
      h('tbody', {}, rows),
      foot));
}

function plural(n, one, many) {
  return `${n} ${n > 1 ? many : one}`;
}

function patientCell(p, caseHex) {
  return h('th', { scope: 'row', 'data-named': String(p.named) },
    h('a', { href: `#/case/${caseHex}`, text: p.patient }));
}

async function render(ctx) {
  const user = ctx.me.user;
  if (!dash.isCoordinator(user)) {
    return h('section', { class: 'dashboard-view' }, h('h1', { text: 'Tableau de bord' }),
      h('p', { class: 'error', role: 'alert', 'data-testid': 'not-coordinator',
        text: 'Le tableau de bord est réservé aux coordinateurs de la CPTS : vos dossiers sont dans « Mes dossiers ».' }),
      h('p', {}, h('a', { href: '#/cases', text: 'Aller à « Mes dossiers »' })));
  }
  const me = user.id;
  const status = statusLine();
  status.el.setAttribute('tabindex', '-1');
  const body = h('div', { 'data-testid': 'dashboard' });
  let pw = {};
  try {
    pw = await cases.pathways(ctx.conn);
  } catch (e) {
    status.error(cases.caseError(e));
  }

  let data = null; // {now, all, late, notices, alerts, noticeError, alertError}
  const names = new Map();
  let selection = null; // {pathway ('' = total), kind} of the open list
  let openForm = null; // {step, kind: 'assign'|'reschedule', members?} while a form is open
  let stale = false;

  // ---- loading ----
  async function fetchAll() {
    const [now, all, late] = await Promise.all([dash.serverNow(ctx.conn), dash.allCases(ctx.conn),
      dash.lateSteps(ctx.conn, user)]);
    const next = { now, all: all.cases || [], late: dash.lateOrder(late.steps || []) };
    try {
      next.notices = dash.noticeOrder((await dash.unackedNotices(ctx.conn, user)).notices || []);
    } catch (e) {
      next.notices = [];
      next.noticeError = cases.caseError(e);
    }
    try {
      next.alerts = dash.weekAlerts((await dash.recentAlerts(ctx.conn, user)).alerts || [], now);
    } catch (e) {
      next.alerts = [];
      next.alertError = cases.caseError(e);
    }
    return next;
  }

  async function loadNames() {
    // the cases of her own threads: the only ones whose patient she may read
    let own = [];
    try {
      own = (await dash.ownCases(ctx.conn)).cases || [];
    } catch {
      own = [];
    }
    let changed = false;
    // the name is in the discharge notice: only the cases that have one (ack_missing not null)
    for (const c of own.filter((x) => x.ack_missing !== null && x.ack_missing !== undefined)) {
      const name = await patientName(ctx, c.case);
      if (name && names.get(c.case) !== name) { names.set(c.case, name); changed = true; }
    }
    return changed;
  }

  const load = serial(async () => {
    try {
      data = await fetchAll();
      if (openForm) {
        stale = true;
        status.info('Le tableau de bord a changé : il sera actualisé après votre saisie.');
      } else {
        draw();
      }
      if (await loadNames() && !openForm) draw();
      document.documentElement.dataset.dashboardLoaded = String(Date.now());
    } catch (e) {
      status.error(cases.caseError(e));
    }
  });

  function closeForm() {
    const step = openForm && openForm.step;
    const kind = openForm && openForm.kind;
    openForm = null;
    stale = false;
    draw();
    // the focus back on the button that opened the form
    const b = body.querySelector(`tr[data-step-id="${step}"] button[data-action="${kind}"]`);
    if (b) b.focus();
  }

  // ---- « Dossiers ouverts » ----
  function summarySection() {
    const s = dash.openSummary(data.all, pw);
    const cell = (row, key) => {
      const n = row.counts[key];
      const word = dash.COLUMNS.find(([k]) => k === key)[1].toLowerCase();
      const selected = selection && selection.pathway === row.pathway && selection.kind === key;
      const attrs = { class: key === 'open' || n === 0 ? 'num' : 'num late', 'data-kind': key, 'data-count': String(n) };
      if (n === 0) return h('td', { ...attrs, text: '0' });
      return h('td', attrs, h('button', {
        type: 'button', class: 'count', text: String(n), 'aria-expanded': String(!!selected),
        'aria-controls': 'dash-open-list',
        'aria-label': `${row.label}, ${word} : ${plural(n, 'dossier', 'dossiers')} — afficher la liste`,
        onclick: () => { selection = selected ? null : { pathway: row.pathway, kind: key }; draw(); },
      }));
    };
    const tr = (row, total = false) => h('tr', { 'data-pathway': row.pathway || 'total' },
      h('th', { scope: 'row', text: total ? 'Total' : row.label }),
      dash.COLUMNS.map(([k]) => cell(row, k)));
    const items = [h('h2', { id: 'dash-open', text: 'Dossiers ouverts' })];
    if (s.rows.length === 0) {
      items.push(h('p', { 'data-testid': 'no-open', text: 'Aucun dossier ouvert dans la CPTS.' }));
    } else {
      items.push(table('open-table', 'Dossiers ouverts de la CPTS par parcours (un dossier compte dans chaque colonne qui le concerne)',
        ['Parcours', ...dash.COLUMNS.map(([, t]) => t)], s.rows.map((r) => tr(r)),
        h('tfoot', {}, tr(s.total, true))));
    }
    const list = h('div', { id: 'dash-open-list', 'data-testid': 'open-list', 'aria-live': 'polite' });
    if (selection) {
      const row = selection.pathway === '' ? s.total : s.rows.find((r) => r.pathway === selection.pathway);
      const chosen = row ? row.cases[selection.kind] : [];
      const word = dash.COLUMNS.find(([k]) => k === selection.kind)[1].toLowerCase();
      list.dataset.pathway = selection.pathway;
      list.dataset.kind = selection.kind;
      list.append(h('h3', { text: `${row ? row.label : 'Total'} — ${word} : ${plural(chosen.length, 'dossier', 'dossiers')}` }),
        h('ul', { class: 'dash-cases' }, chosen.map((c) => {
          const p = dash.patientOf(c.case, c.patient_ref, names);
          const r = cases.caseRow(c, dash.localDay(data.now));
          const facts = [cases.pathwayLabel(pw, c.pathway), `J0 ${dash.shortDay(cases.dayOfStart(c.j0))}`];
          if (r.overdue) facts.push(`${plural(r.overdue, 'étape', 'étapes')} en retard`);
          if (r.ack) facts.push(`${plural(r.ack, 'accusé manquant', 'accusés manquants')}`);
          if (r.escalated) facts.push('avis escaladé');
          return h('li', { 'data-case': c.case, 'data-named': String(p.named) },
            h('a', { href: `#/case/${c.case}`, text: p.text }), ` — ${facts.join(' · ')}`);
        })),
        h('p', {}, h('button', { type: 'button', class: 'secondary', text: 'Fermer la liste',
          onclick: () => { selection = null; draw(); } })));
    }
    items.push(list);
    return h('section', { 'aria-labelledby': 'dash-open', 'data-testid': 'open-section' }, items);
  }

  // ---- « Étapes en retard » ----
  function caseOf(caseHex) {
    return data.all.find((c) => c.case === caseHex) || null;
  }

  async function act(fn, done) {
    try {
      await fn();
      openForm = null;
      stale = false;
      data = await fetchAll();
      draw();
      status.info(done);
      status.el.focus();
      document.documentElement.dataset.dashboardLoaded = String(Date.now());
      return true;
    } catch (e) {
      status.error(cases.caseError(e));
      status.el.focus();
      return false;
    }
  }

  function assignForm(s, row) {
    const err = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    const fail = (text) => { err.className = 'status error'; err.setAttribute('role', 'alert'); err.textContent = text; };
    const id = `dash-assign-${s.step}`;
    if (!openForm.members) {
      return { form: h('p', { class: 'hint', text: 'Chargement des membres du fil…' }), first: null };
    }
    const c = dash.assignCandidates(s, openForm.members, me);
    const option = (m) => h('option', { value: m.user,
      text: `${m.name} — ${m.profession_label || m.profession || ''}` });
    const select = h('select', { id, required: true },
      h('option', { value: '', text: '— choisissez —' }),
      c.self ? h('option', { value: me, text: `Moi-même (${user.name})` }) : null,
      c.fit.length ? h('optgroup', { label: `Rôle de l’étape (${s.roles})` }, c.fit.map(option)) : null,
      c.others.length ? h('optgroup', { label: 'Autres membres du fil' }, c.others.map(option)) : null);
    const form = h('form', { class: 'step-form', 'data-form': 'assign', novalidate: true,
      onkeydown: (e) => { if (e.key === 'Escape') { e.preventDefault(); closeForm(); } },
      onsubmit: (e) => {
        e.preventDefault();
        if (!select.value) { fail('Choisissez à qui confier l’étape.'); select.focus(); return; }
        const who = select.selectedOptions[0].textContent;
        const submit = form.querySelector('button[type=submit]');
        submit.disabled = true;
        act(() => dash.stepAssign(ctx.conn, s.step, select.value),
          `« ${row.step} » (${row.patient}) confiée à ${who.split(' — ')[0]}.`)
          .then((ok) => { if (!ok) submit.disabled = false; });
      } },
    h('p', { class: 'field' }, h('label', { for: id, text: `Confier « ${row.step} » à` }), select,
      h('small', { text: `Actuellement : ${row.owner}. Les membres du fil du dossier ; le serveur vérifie qui peut la recevoir.` })),
    h('p', { class: 'buttons' }, h('button', { type: 'submit', text: 'Confirmer la réattribution' }),
      h('button', { type: 'button', class: 'secondary', text: 'Annuler', onclick: () => closeForm() })), err);
    return { form, first: select };
  }

  function rescheduleForm(s, row) {
    const err = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    const fail = (text) => { err.className = 'status error'; err.setAttribute('role', 'alert'); err.textContent = text; };
    const c = caseOf(s.case);
    const todayDays = dash.localDay(data.now);
    const base = `dash-resched-${s.step}`;
    const date = h('input', { type: 'date', id: `${base}-due`, required: true, min: cases.dayText(todayDays),
      max: c ? cases.dayText(cases.dayOfStart(c.j0) + cases.RESCHEDULE_MAX_DAYS) : null });
    const reason = h('select', { id: `${base}-reason`, required: true },
      h('option', { value: '', text: '— choisissez —' }),
      cases.RESCHEDULE_REASONS.map(([code, label]) => h('option', { value: code, text: label })));
    const form = h('form', { class: 'step-form', 'data-form': 'reschedule', novalidate: true,
      onkeydown: (e) => { if (e.key === 'Escape') { e.preventDefault(); closeForm(); } },
      onsubmit: (e) => {
        e.preventDefault();
        if (!c) { fail('Ce dossier n’est plus ouvert : actualisez le tableau de bord.'); return; }
        const check = cases.checkReschedule(date.value, { due_at: s.due_at }, c, dash.localDay(data.now));
        if (check.error) { fail(check.error); date.focus(); return; }
        if (!reason.value) { fail('Choisissez le motif du report : il est obligatoire.'); reason.focus(); return; }
        const submit = form.querySelector('button[type=submit]');
        submit.disabled = true;
        act(() => cases.stepReschedule(ctx.conn, s.step, date.value, reason.value),
          `« ${row.step} » (${row.patient}) reportée au ${dash.shortDay(check.day)} (${cases.rescheduleReasonLabel(reason.value)}).`)
          .then((ok) => { if (!ok) submit.disabled = false; });
      } },
    h('p', { class: 'field' }, h('label', { for: `${base}-due`, text: 'Nouvelle date' }), date,
      h('small', { text: `Aujourd’hui ou plus tard, au plus ${cases.RESCHEDULE_MAX_DAYS} jours après J0 ; échéance actuelle : ${row.due}.` })),
    h('p', { class: 'field' }, h('label', { for: `${base}-reason`, text: 'Motif' }), reason),
    h('p', { class: 'buttons' }, h('button', { type: 'submit', text: 'Confirmer le report' }),
      h('button', { type: 'button', class: 'secondary', text: 'Annuler', onclick: () => closeForm() })), err);
    return { form, first: date };
  }

  function openFormFor(s, kind) {
    openForm = { step: s.step, kind };
    draw();
    if (kind === 'assign') {
      cases.getCase(ctx.conn, s.case).then((r) => {
        if (!openForm || openForm.step !== s.step) return;
        openForm.members = r.members || [];
        draw();
      }, (e) => {
        openForm = null;
        draw();
        status.error(cases.caseError(e));
        status.el.focus();
      });
    }
  }

  function lateSection() {
    const items = [h('h2', { id: 'dash-late', text: 'Étapes en retard' })];
    if (data.late.length === 0) {
      items.push(h('p', { 'data-testid': 'no-late', text: 'Aucune étape en retard.' }));
    } else {
      const rows = [];
      let focus = null;
      for (const s of data.late) {
        const r = dash.lateRow(s, pw, names);
        const label = `${r.step} de ${r.patient}`;
        rows.push(h('tr', { 'data-step-id': String(s.step), 'data-case': s.case, 'data-code': r.code,
          'data-due': r.dueIso, 'data-assignee': s.assignee || '' },
        patientCell(r, s.case),
        h('td', { text: r.pathway }),
        h('td', {}, r.step, ' ', h('small', { text: r.code })),
        h('td', { text: r.due }),
        h('td', { class: 'num late', 'data-days-late': String(r.daysLate) },
          h('span', { class: 'tag late', text: `${r.daysLate} j de retard` })),
        h('td', { 'data-testid': 'owner', text: r.owner }),
        h('td', {}, h('p', { class: 'buttons' },
          h('button', { type: 'button', class: 'secondary', text: 'Réattribuer', 'aria-label': `Réattribuer : ${label}`,
            'data-action': 'assign',
            onclick: () => openFormFor(s, 'assign') }),
          h('button', { type: 'button', class: 'secondary', text: 'Reporter', 'aria-label': `Reporter : ${label}`,
            'data-action': 'reschedule',
            onclick: () => openFormFor(s, 'reschedule') })))));
        if (openForm && openForm.step === s.step) {
          const f = openForm.kind === 'assign' ? assignForm(s, r) : rescheduleForm(s, r);
          focus = f.first;
          rows.push(h('tr', { class: 'form-row', 'data-form-for': String(s.step) },
            h('td', { colspan: '7' }, f.form)));
        }
      }
      items.push(table('late-table', `Étapes en retard : ${data.late.length}, la plus en retard d’abord`,
        ['Patient', 'Parcours', 'Étape', 'Échéance', 'Retard', 'Responsable', 'Actions'], rows));
      if (focus) queueMicrotask(() => focus.focus());
    }
    return h('section', { 'aria-labelledby': 'dash-late', 'data-testid': 'late-section' }, items);
  }

  // ---- notices, escalations, alerts ----
  function noticesSection() {
    const items = [h('h2', { id: 'dash-unacked', text: 'Avis de sortie non accusés' })];
    if (data.noticeError) items.push(h('p', { class: 'error', text: data.noticeError }));
    else if (data.notices.length === 0) items.push(h('p', { 'data-testid': 'no-unacked', text: 'Tous les avis de sortie ont été accusés.' }));
    else {
      items.push(table('unacked-table', `Avis de sortie en attente d’accusés de réception : ${data.notices.length}, le plus ancien d’abord`,
        ['Patient', 'Parcours', 'Publié par', 'Depuis', 'Accusés', 'Manquent', 'Escalade'],
        data.notices.map((n) => {
          const r = dash.noticeRow(n, pw, names, data.now);
          return h('tr', { 'data-case': n.case, 'data-seq': String(n.seq), 'data-escalated': String(!!n.escalated_at) },
            patientCell(r, n.case),
            h('td', { text: r.pathway }),
            h('td', { text: r.postedBy }),
            h('td', {}, h('strong', { text: r.since }), h('br'), h('small', { text: `publié le ${r.posted}` })),
            h('td', { class: 'num', text: r.acks }),
            h('td', { class: 'late', 'data-testid': 'missing', text: r.missing }),
            h('td', {}, r.escalated ? h('span', { class: 'tag late', text: `escaladé le ${r.escalated}` }) : 'non'));
        })));
    }
    return h('section', { 'aria-labelledby': 'dash-unacked', 'data-testid': 'unacked-section' }, items);
  }

  function escalationsSection() {
    const items = [h('h2', { id: 'dash-escalated', text: 'Escalades' })];
    const list = dash.escalated(data.notices);
    if (data.noticeError) items.push(h('p', { class: 'error', text: data.noticeError }));
    else if (list.length === 0) items.push(h('p', { 'data-testid': 'no-escalated', text: 'Aucun avis escaladé en attente.' }));
    else {
      items.push(table('escalated-table', `Avis de sortie escaladés aux coordinateurs : ${list.length}`,
        ['Patient', 'Parcours', 'Publié par', 'Escaladé', 'Manquent'],
        list.map((n) => {
          const r = dash.noticeRow(n, pw, names, data.now);
          return h('tr', { 'data-case': n.case, 'data-seq': String(n.seq) },
            patientCell(r, n.case),
            h('td', { text: r.pathway }),
            h('td', { text: r.postedBy }),
            h('td', {}, h('span', { class: 'tag late', text: 'escaladé' }), ` le ${r.escalated} (${r.escalatedSince})`),
            h('td', { class: 'late', 'data-testid': 'missing', text: r.missing }));
        })));
    }
    return h('section', { 'aria-labelledby': 'dash-escalated', 'data-testid': 'escalated-section' }, items);
  }

  function alertsSection() {
    const items = [h('h2', { id: 'dash-alerts', text: 'Alertes de la semaine' })];
    if (data.alertError) items.push(h('p', { class: 'error', text: data.alertError }));
    else if (data.alerts.length === 0) items.push(h('p', { 'data-testid': 'no-alerts', text: `Aucune alerte ces ${dash.ALERT_DAYS} derniers jours.` }));
    else {
      items.push(table('alerts-table', `Alertes des ${dash.ALERT_DAYS} derniers jours : ${data.alerts.length}, la plus récente d’abord`,
        ['Quand', 'Patient', 'Parcours', 'Alerte', 'Par'],
        data.alerts.map((a) => {
          const r = dash.alertRow(a, pw, names, data.now);
          return h('tr', { 'data-case': a.case, 'data-seq': String(a.seq), 'data-kind': a.kind },
            h('td', {}, r.when, h('br'), h('small', { text: r.ago })),
            patientCell(r, a.case),
            h('td', {}, r.pathway, r.closed ? h('small', { text: ' (dossier clôturé)' }) : null),
            h('td', { text: r.kind }),
            h('td', { text: r.by }));
        })));
    }
    return h('section', { 'aria-labelledby': 'dash-alerts', 'data-testid': 'alerts-section' }, items);
  }

  function draw() {
    if (!data) return;
    body.replaceChildren(summarySection(), lateSection(), noticesSection(), escalationsSection(),
      alertsSection());
  }

  for (const ev of ['case', 'ack', 'alert', 'notification']) ctx.on(ev, () => { load(); });
  await load();
  return h('section', { class: 'dashboard-view' },
    h('h1', { text: 'Tableau de bord' }),
    h('p', { class: 'hint', text: 'Ce que le serveur sait des dossiers de la CPTS : le nom du patient n’apparaît que pour les dossiers dont vous êtes membre du fil, sinon sa référence P-….' }),
    status.el,
    body);
}

export default { id: 'dashboard', label: 'Tableau de bord', nav: dash.isCoordinator, render };
