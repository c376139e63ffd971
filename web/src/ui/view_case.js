// One case (#/case/<casehex>, op case_get): the header (pathway, J0, state,
// flags, who opened it), the discharge notice with who has acknowledged it
// and who has not, and the button "Accuser réception"; the timeline (steps
// by deadline: J+n and the French day, state, label from the server,
// assignee, done by / via, the reason of a step not done, each reschedule);
// the members; and on each pending step, for its assignee or a coordinator,
// "Fait", "Non fait (motif)" and "Reporter (nouvelle date, motif)". The
// reasons are codes (the server keeps them; details belong in the encrypted
// thread), shown in French; a new date is checked as the server checks it
// before anything is sent. The patient's identity and the notice's text are
// in the encrypted case thread ("Ouvrir le fil du dossier"): for a member,
// the notice is decrypted here (core/index.js messageAt) and shown in the
// CLI's order before "Accuser réception" is offered — as `liaison ack`, the
// notice must be readable on this device before saying it was received. The view
// refreshes itself on the server's case, ack, alert and notification events
// for this case (deferred while a form is open).
import { h, facts, statusLine } from './dom.js';
import * as cases from '../core/cases.js';
import { messageAt } from '../core/index.js';

function names(reply) {
  const map = new Map();
  for (const m of reply.members || []) map.set(m.user, m.name);
  const notice = reply.notice || {};
  for (const p of notice.missing_people || []) if (p.name) map.set(p.user, p.name);
  for (const e of reply.events || []) if (e.by_name) map.set(e.by, e.by_name);
  return (user) => (user ? map.get(user) || 'un professionnel hors du fil' : 'personne pour l’instant');
}

function select(id, options) {
  return h('select', { id, required: true },
    h('option', { value: '', text: '— choisissez —' }),
    options.map(([code, label]) => h('option', { value: code, text: label })));
}

async function render(ctx, arg) {
  const caseHex = (arg || '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(caseHex)) {
    return h('section', {}, h('h1', { text: 'Dossier' }),
      h('p', { class: 'error', role: 'alert', text: 'Ce lien ne désigne pas un dossier : ouvrez-le depuis « Mes dossiers ».' }));
  }
  const me = ctx.me.user.id;
  const coordinator = cases.hasRole(ctx.me.user, 'coordinator');
  const discharge = cases.hasRole(ctx.me.user, 'discharge');
  const status = statusLine();
  status.el.setAttribute('tabindex', '-1');
  const heading = h('h1', { text: 'Dossier' });
  const sub = h('p', { class: 'hint' });
  const body = h('div', { 'data-testid': 'case' });
  let pw = {};
  try {
    pw = await cases.pathways(ctx.conn);
  } catch {
    pw = {}; // the codes are shown instead of the labels
  }
  let reply = await cases.getCase(ctx.conn, caseHex); // a refusal is the shell's error
  let openForm = null; // {stepId} while a form is shown: refreshes wait
  let stale = false;
  // the notice decrypted from the thread: {seq, status: 'loading'|'ok'|'error', rows, patient, text}
  let decrypted = null;
  const noticeBox = h('div', { class: 'notice-content', 'data-testid': 'notice-content', 'aria-live': 'polite' });
  const patientText = () => (decrypted && decrypted.patient ? decrypted.patient : null);

  function drawNoticeContent() {
    if (!decrypted) { noticeBox.replaceChildren(); return; }
    noticeBox.dataset.state = decrypted.status;
    if (decrypted.status === 'loading') {
      noticeBox.replaceChildren(h('p', { class: 'hint', text: 'Déchiffrement de l’avis de sortie…' }));
    } else if (decrypted.status === 'error') {
      noticeBox.replaceChildren(h('p', { class: 'error', text: decrypted.text }),
        h('p', {}, h('button', { type: 'button', class: 'secondary', text: 'Réessayer de lire l’avis',
          onclick: () => loadNotice() })));
    } else {
      noticeBox.replaceChildren(
        h('h3', { text: 'Avis de sortie (lettre de liaison)' }),
        h('dl', { class: 'notice-rows' }, decrypted.rows.flatMap(([label, value]) => [
          h('dt', { text: label }),
          h('dd', {}, Array.isArray(value) ? h('ul', {}, value.map((v) => h('li', { text: v }))) : value),
        ])));
    }
  }

  async function loadNotice() {
    const notice = reply.notice;
    if (!notice || !reply.member) { decrypted = null; return; }
    if (decrypted && decrypted.seq === notice.seq && decrypted.status !== 'error') return;
    const seq = notice.seq;
    decrypted = { seq, status: 'loading' };
    drawNoticeContent();
    let next;
    try {
      const m = await messageAt(ctx, reply.case.channel, seq);
      const rows = m && m.status === 'ok' ? cases.noticeRows(m.content) : null;
      if (!m) {
        next = { seq, status: 'error', text: `L’avis (message n° ${seq}) n’est pas encore arrivé sur ce navigateur : ouvrez le fil du dossier, puis revenez.` };
      } else if (m.status !== 'ok') {
        next = { seq, status: 'error', text: `L’avis (message n° ${seq}) ne peut pas être lu sur ce navigateur : ${m.status}. Il faut le lire avant d’en accuser réception.` };
      } else if (!rows) {
        next = { seq, status: 'error', text: `Le message n° ${seq} du fil n’est pas un avis de sortie : signalez-le à l’équipe de sortie.` };
      } else {
        next = { seq, status: 'ok', rows, patient: cases.noticePatientName(m.content) };
      }
    } catch (e) {
      next = { seq, status: 'error', text: cases.caseError(e) };
    }
    if (!reply.notice || reply.notice.seq !== seq) return;
    decrypted = next;
    if (openForm) drawNoticeContent(); else draw();
  }

  async function refresh() {
    if (openForm) {
      stale = true;
      status.info('Le dossier a changé : il sera actualisé après votre saisie.');
      return;
    }
    try {
      reply = await cases.getCase(ctx.conn, caseHex);
      draw();
      loadNotice();
    } catch (e) {
      status.error(cases.caseError(e));
    }
  }

  function closeForm() {
    const stepId = openForm && openForm.stepId;
    openForm = null;
    const back = () => {
      const b = body.querySelector(`li[data-step-id="${stepId}"] button`);
      if (b) b.focus();
    };
    if (stale) {
      stale = false;
      refresh().then(back);
    } else {
      draw();
      back();
    }
  }

  async function act(what, fn, done) {
    try {
      await fn();
      openForm = null;
      stale = false;
      reply = await cases.getCase(ctx.conn, caseHex);
      draw();
      status.info(done);
      status.el.focus();
      return true;
    } catch (e) {
      status.error(cases.caseError(e));
      if (!openForm) draw();
      status.el.focus();
      return false;
    }
  }

  // ---- the notice ----
  function noticeBlock(nameOf) {
    const notice = reply.notice;
    const items = [h('h2', { text: 'Avis de sortie' })];
    if (!notice) {
      items.push(h('p', { 'data-testid': 'no-notice', text: 'Avis de sortie : aucun publié pour l’instant.' }));
      return h('section', { class: 'notice-block', 'data-testid': 'notice' }, items);
    }
    const a = cases.ackSummary(notice);
    items.push(h('p', {}, `Message n° ${notice.seq} du fil, publié le ${cases.frenchTime(notice.posted_at)} par ${nameOf(notice.posted_by)}.`));
    if (notice.escalated_at) {
      items.push(h('p', { class: 'late', text: `Escaladé aux coordinateurs de la CPTS le ${cases.frenchTime(notice.escalated_at)}.` }));
    }
    items.push(h('p', { 'data-testid': 'ack-count', 'data-acknowledged': String(a.acknowledged), 'data-expected': String(a.expected) },
      h('strong', { text: `Accusés de réception : ${a.acknowledged}/${a.expected}` }),
      ' des destinataires désignés à la publication de l’avis'));
    items.push(h('p', { text: a.acks.length ? 'Réception accusée par :' : 'Réception accusée par : personne pour l’instant' }));
    if (a.acks.length) {
      items.push(h('ul', { 'data-testid': 'acks' }, a.acks.map((x) => h('li', { 'data-user': x.user },
        `${nameOf(x.user)}, le ${cases.frenchTime(x.acked_at)}`, x.recipient ? '' : ' (pas destinataire)'))));
    }
    if (a.missing === 0) {
      items.push(h('p', { text: 'Tout le monde a accusé réception de l’avis.' }));
    } else {
      items.push(h('p', { text: `Pas encore : ${a.missing} des ${a.expected} destinataires` }));
      items.push(h('ul', { 'data-testid': 'missing' }, a.missingPeople.map((p) => h('li', {
        'data-user': p.user, class: 'late', text: p.name || nameOf(p.user) }))));
    }
    if (reply.member) {
      drawNoticeContent();
      items.push(noticeBox);
    }
    if (cases.canAck(reply, me) && !(decrypted && decrypted.status === 'ok')) {
      items.push(h('p', { class: 'hint', 'data-testid': 'ack-wait',
        text: 'Accuser réception : possible une fois l’avis lu sur ce navigateur.' }));
    } else if (cases.canAck(reply, me)) {
      const b = h('button', { type: 'button', 'data-testid': 'ack-button', text: 'Accuser réception',
        onclick: () => {
          b.disabled = true;
          act('ack', () => cases.acknowledge(ctx.conn, caseHex), 'Vous avez accusé réception de l’avis de sortie.')
            .then((ok) => { if (!ok) b.disabled = false; });
        } });
      items.push(h('p', {}, b));
    } else if ((notice.acks || []).some((x) => x.user === me)) {
      items.push(h('p', { 'data-testid': 'acked', text: 'Vous avez accusé réception de cet avis.' }));
    }
    return h('section', { class: 'notice-block', 'data-testid': 'notice' }, items);
  }

  // ---- one step ----
  function stepForm(step, kind, label) {
    const err = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    const fail = (text) => { err.className = 'status error'; err.setAttribute('role', 'alert'); err.textContent = text; };
    const cancel = h('button', { type: 'button', class: 'secondary', text: 'Annuler', onclick: () => closeForm() });
    const escape = (e) => { if (e.key === 'Escape') { e.preventDefault(); closeForm(); } };
    const base = `s${step.id}-${kind}`;
    if (kind === 'skip') {
      const reason = select(`${base}-reason`, cases.SKIP_REASONS);
      const form = h('form', { class: 'step-form', 'data-form': 'skip', novalidate: true, onkeydown: escape,
        onsubmit: (e) => {
          e.preventDefault();
          if (!reason.value) { fail('Choisissez le motif : il est obligatoire (le serveur ne garde qu’un code, les détails vont dans le fil).'); reason.focus(); return; }
          const submit = form.querySelector('button[type=submit]');
          submit.disabled = true;
          act('skip', () => cases.stepSkip(ctx.conn, step.id, reason.value),
            `« ${label} » : non faite (${cases.skipReasonLabel(reason.value)}).`)
            .then((ok) => { if (!ok) submit.disabled = false; });
        } },
      h('p', { class: 'field' }, h('label', { for: `${base}-reason`, text: 'Motif' }), reason),
      h('p', { class: 'buttons' }, h('button', { type: 'submit', text: 'Confirmer : non faite' }), cancel), err);
      return { form, first: reason };
    }
    const todayDays = cases.today();
    const current = step.due_at ? cases.dayOfDue(step.due_at) : null;
    const date = h('input', { type: 'date', id: `${base}-due`, required: true, min: cases.dayText(todayDays),
      max: cases.dayText(cases.dayOfStart(reply.case.j0) + cases.RESCHEDULE_MAX_DAYS) });
    const reason = select(`${base}-reason`, cases.RESCHEDULE_REASONS);
    const form = h('form', { class: 'step-form', 'data-form': 'reschedule', novalidate: true, onkeydown: escape,
      onsubmit: (e) => {
        e.preventDefault();
        const check = cases.checkReschedule(date.value, step, reply.case, cases.today());
        if (check.error) { fail(check.error); date.focus(); return; }
        if (!reason.value) { fail('Choisissez le motif du report : il est obligatoire.'); reason.focus(); return; }
        const submit = form.querySelector('button[type=submit]');
        submit.disabled = true;
        act('reschedule', () => cases.stepReschedule(ctx.conn, step.id, date.value, reason.value),
          `« ${label} » reportée au ${cases.frenchDay(check.day, todayDays)} (${cases.rescheduleReasonLabel(reason.value)}).`)
          .then((ok) => { if (!ok) submit.disabled = false; });
      } },
    h('p', { class: 'field' }, h('label', { for: `${base}-due`, text: 'Nouvelle date' }), date,
      h('small', { text: `Aujourd’hui ou plus tard, au plus ${cases.RESCHEDULE_MAX_DAYS} jours après J0${current !== null ? ` ; échéance actuelle : ${cases.frenchDay(current, todayDays)}` : ''}.` })),
    h('p', { class: 'field' }, h('label', { for: `${base}-reason`, text: 'Motif' }), reason),
    h('p', { class: 'buttons' }, h('button', { type: 'submit', text: 'Confirmer le report' }), cancel), err);
    return { form, first: date };
  }

  function stepItem(step, nameOf, todayDays, nowMs) {
    const state = cases.stepState(step, nowMs);
    const name = cases.stepName(step, reply.steps || []);
    const label = step.label || name;
    const late = cases.daysLate(step, todayDays);
    const lines = [];
    lines.push(h('p', { class: 'who' }, `Confiée à ${nameOf(step.assignee)}`));
    if (step.status === 'done') {
      lines.push(h('p', { 'data-testid': 'done' }, `Faite le ${cases.frenchTime(step.done_at)} par ${nameOf(step.done_by)}`,
        step.done_via ? `, ${cases.viaWords(step.done_via)}` : '', '.'));
    } else if (step.status === 'skipped') {
      lines.push(h('p', { 'data-testid': 'skipped' }, `Non faite, notée le ${cases.frenchTime(step.done_at)} par ${nameOf(step.done_by)}`,
        step.skip_reason ? ` : ${cases.skipReasonLabel(step.skip_reason)}` : '', '.'));
    }
    if (step.note_seq) lines.push(h('p', { class: 'hint', text: `Note : message n° ${step.note_seq} du fil du dossier.` }));
    for (const ev of cases.stepEvents(step, reply.events)) {
      const from = ev.old_due ? `J+${cases.dayOffset(reply.case.j0, ev.old_due)} ${cases.frenchDay(cases.dayOfDue(ev.old_due), todayDays)}` : '—';
      const to = ev.new_due ? `J+${cases.dayOffset(reply.case.j0, ev.new_due)} ${cases.frenchDay(cases.dayOfDue(ev.new_due), todayDays)}` : '—';
      lines.push(h('p', { class: 'history', 'data-testid': 'history', 'data-reason': ev.reason || '' },
        `${ev.action === 'rescheduled' ? 'Reportée' : ev.action} le ${cases.frenchTime(ev.at)} par ${ev.by_name || nameOf(ev.by)} : ${from} → ${to} (${cases.rescheduleReasonLabel(ev.reason)})`,
        ev.note_seq ? ` — note : message n° ${ev.note_seq} du fil` : ''));
    }
    const actions = [];
    if (cases.canAct(step, reply.case, me, coordinator)) {
      if (openForm && openForm.stepId === step.id) {
        const f = stepForm(step, openForm.kind, label);
        actions.push(f.form);
        queueMicrotask(() => f.first.focus());
      } else {
        const done = h('button', { type: 'button', text: 'Fait', 'aria-label': `Fait : ${label}`,
          onclick: () => {
            done.disabled = true;
            act('complete', () => cases.stepComplete(ctx.conn, step.id), `« ${label} » : faite.`);
          } });
        const open = (kind) => () => { openForm = { stepId: step.id, kind }; draw(); };
        actions.push(h('p', { class: 'buttons' }, done,
          h('button', { type: 'button', class: 'secondary', text: 'Non fait (motif)', 'aria-label': `Non fait (motif) : ${label}`, onclick: open('skip') }),
          h('button', { type: 'button', class: 'secondary', text: 'Reporter', 'aria-label': `Reporter : ${label}`, onclick: open('reschedule') })));
      }
    }
    return h('li', {
      class: `step ${state}`, 'data-step-id': String(step.id), 'data-step-code': name,
      'data-status': step.status, 'data-state': state, 'data-due': step.due_at ? cases.dayText(cases.dayOfDue(step.due_at)) : '',
      'data-assignee': step.assignee || '',
    },
    h('p', { class: 'step-head' },
      h('span', { class: 'due', text: cases.dueText(step, reply.case, todayDays) }),
      h('span', { class: `tag ${state}`, text: cases.STATE_WORDS[state] + (late ? ` (${late} j)` : '') }),
      h('strong', { text: label }),
      h('small', { class: 'code', text: name })),
    lines, actions);
  }

  // ---- the whole view ----
  function draw() {
    const c = reply.case;
    const nameOf = names(reply);
    const todayDays = cases.today();
    const nowMs = Date.now();
    heading.textContent = `Dossier ${c.patient_ref}`;
    sub.textContent = `${cases.pathwayLabel(pw, c.pathway)} (version ${c.template_version}) — ${cases.CASE_STATUS_WORDS[c.status] || c.status}` +
      (c.close_reason ? ` : ${cases.closeReasonLabel(c.close_reason)}, le ${cases.frenchTime(c.closed_at)}` : '');
    const open = c.status === 'open';
    const links = [];
    if (reply.member) links.push(h('a', { class: 'button', href: `#/thread/${c.channel}`, text: 'Ouvrir le fil du dossier' }));
    if (open && reply.member) links.push(h('a', { class: 'button secondary', href: `#/measure/${c.case}`, text: 'Saisir une mesure' }));
    if (open && discharge && reply.member && !reply.notice) {
      links.push(h('a', { class: 'button secondary', href: `#/discharge/${c.case}`, text: 'Poster l’avis de sortie' }));
    }
    const steps = cases.timelineOrder(reply.steps || []);
    const flags = (c.flags || []).join(', ');
    body.replaceChildren(...[
      facts([
        ['Patient', reply.member ? (patientText() ? `${patientText()} (${c.patient_ref})`
          : `${c.patient_ref} — nom, date de naissance et avis dans le fil chiffré du dossier`)
          : `${c.patient_ref} — seuls les membres du fil du dossier voient le patient`, { field: 'patient' }],
        ['Parcours', cases.pathwayLabel(pw, c.pathway), { field: 'pathway' }],
        ['J0', `${cases.frenchDay(cases.dayOfStart(c.j0), todayDays)} (${cases.dayText(cases.dayOfStart(c.j0))})`, { field: 'j0' }],
        ['État', cases.CASE_STATUS_WORDS[c.status] || c.status, { field: 'status' }],
        ['Indicateurs', flags || 'aucun', { field: 'flags' }],
        ['Ouvert le', `${cases.frenchTime(c.opened_at)} par ${nameOf(c.opened_by)}`, { field: 'opened' }],
      ], { 'data-testid': 'case-facts' }),
      links.length ? h('p', { class: 'links' }, links) : null,
      noticeBlock(nameOf),
      h('section', { 'data-testid': 'timeline' },
        h('h2', { text: 'Étapes' }),
        h('p', { class: 'hint', text: 'Échéances en jours du calendrier de la CPTS ; J0 = jour 0.' }),
        h('ol', { class: 'timeline' }, steps.map((s) => stepItem(s, nameOf, todayDays, nowMs)))),
      (reply.case_events || []).length ? h('section', {}, h('h2', { text: 'Événements' }),
        h('ul', {}, reply.case_events.map((e) => h('li', { text: `${e.event} : ${e.day}` })))) : null,
      h('section', { 'data-testid': 'members' },
        h('h2', { text: 'Membres du fil' }),
        (reply.members || []).length
          ? h('ul', {}, reply.members.map((m) => h('li', { 'data-user': m.user },
            m.name, h('small', { text: ` — ${m.profession_label || m.profession || ''}${m.role === 'admin' ? ', administrateur du fil' : ''}` }))))
          : h('p', { text: 'Aucun membre.' }))].filter(Boolean));
    document.documentElement.dataset.caseDrawn = String((Number(document.documentElement.dataset.caseDrawn) || 0) + 1);
  }

  for (const ev of ['case', 'ack', 'alert', 'notification']) {
    ctx.on(ev, (e) => { if (e && e.case === caseHex) refresh(); });
  }
  draw();
  loadNotice();
  return h('section', { class: 'case-view' }, heading, sub, status.el, body);
}

export default { id: 'case', label: 'Dossier', nav: false, render };
