// "Mes dossiers": the cases of the user's threads (op `cases`), each with its
// pathway, patient reference (P-…, never a name: the name is in the
// encrypted thread), J0, next deadline, steps to do and late, and whether the
// discharge notice still waits for acknowledgements; filters by pathway,
// late only, and "a step of mine to do" (`mine`). A coordinator also has
// "Tous les dossiers de la CPTS" (`all`) and the late steps (`late_steps`).
// The list refreshes on the server's case, ack, alert and notification events.
import { h, statusLine, serial } from './dom.js';
import * as cases from '../core/cases.js';

function checkbox(label, attrs, onchange) {
  const id = attrs.id;
  const input = h('input', { type: 'checkbox', ...attrs, onchange });
  return { input, el: h('p', { class: 'check' }, input, h('label', { for: id, text: label })) };
}

function ackWords(c) {
  const r = cases.caseRow(c, 0);
  if (r.ack === null) return 'pas d’avis';
  if (r.ack === 0) return 'tous les accusés reçus';
  return `${r.ack} accusé${r.ack > 1 ? 's' : ''} manquant${r.ack > 1 ? 's' : ''}`;
}

function casesTable(list, pw, todayDays) {
  if (list.length === 0) return h('p', { 'data-testid': 'no-cases', text: 'Aucun dossier ne correspond.' });
  const head = ['Dossier', 'Parcours', 'J0', 'Prochaine échéance', 'À faire', 'En retard',
    'Avis de sortie', 'État'];
  return h('table', { class: 'cases', 'data-testid': 'cases-table' },
    h('caption', { class: 'hint', text: `${list.length} dossier${list.length > 1 ? 's' : ''}` }),
    h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, list.map((c) => {
      const r = cases.caseRow(c, todayDays);
      return h('tr', {
        'data-case': c.case, 'data-ref': c.patient_ref, 'data-overdue': String(r.overdue),
        'data-ack-missing': r.ack === null ? '' : String(r.ack), 'data-pathway': c.pathway,
      },
      h('th', { scope: 'row' }, h('a', { href: `#/case/${c.case}`, text: c.patient_ref })),
      h('td', { text: cases.pathwayLabel(pw, c.pathway) }),
      h('td', { text: r.j0 }),
      h('td', { text: r.next }),
      h('td', { class: 'num', text: String(r.pending) }),
      h('td', { class: r.overdue ? 'num late' : 'num', text: String(r.overdue) }),
      h('td', { class: r.ack ? 'late' : null, 'data-testid': 'ack' },
        ackWords(c), r.escalated ? h('span', { class: 'tag late', text: 'escaladé' }) : null),
      h('td', { text: cases.CASE_STATUS_WORDS[c.status] || c.status }));
    })));
}

function lateTable(steps, todayDays) {
  if (steps.length === 0) return h('p', { text: 'Aucune étape en retard.' });
  return h('table', { class: 'cases', 'data-testid': 'late-table' },
    h('thead', {}, h('tr', {}, ['Dossier', 'Étape', 'Échéance', 'Jours de retard', 'Responsable']
      .map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, steps.map((s) => h('tr', { 'data-case': s.case },
      h('th', { scope: 'row' }, h('a', { href: `#/case/${s.case}`, text: s.patient_ref })),
      h('td', {}, s.label, ' ', h('small', { text: s.occurrence > 1 ? `${s.code}#${s.occurrence}` : s.code })),
      h('td', { text: cases.frenchDay(cases.dayOfDue(s.due_at), todayDays) }),
      h('td', { class: 'num late', text: String(s.days_late) }),
      h('td', { text: s.assignee_name || 'personne pour l’instant' })))));
}

async function render(ctx) {
  const user = ctx.me.user;
  const coordinator = cases.hasRole(user, 'coordinator') || cases.hasRole(user, 'territory');
  const filters = { pathway: '', overdue: false, mine: false, all: false };
  const status = statusLine();
  const listBox = h('div', { 'data-testid': 'cases-list' });
  const lateBox = h('div', { 'data-testid': 'late-steps' });
  let pw = {};
  try {
    pw = await cases.pathways(ctx.conn);
  } catch (e) {
    status.error(cases.caseError(e));
  }

  const load = serial(async () => {
    const todayDays = cases.today();
    try {
      const r = await cases.listCases(ctx.conn, filters);
      listBox.replaceChildren(casesTable(r.cases || [], pw, todayDays));
      if (coordinator) {
        const late = await cases.lateSteps(ctx.conn);
        lateBox.replaceChildren(lateTable(late.steps || [], todayDays));
      }
      document.documentElement.dataset.casesLoaded = String(Date.now());
    } catch (e) {
      status.error(cases.caseError(e));
    }
  });

  const select = h('select', { id: 'cases-pathway', onchange: () => { filters.pathway = select.value; load(); } },
    h('option', { value: '', text: 'Tous les parcours' }),
    Object.values(pw).map((p) => h('option', { value: p.pathway, text: p.label })));
  const overdue = checkbox('En retard seulement', { id: 'cases-overdue' },
    () => { filters.overdue = overdue.input.checked; load(); });
  const mine = checkbox('Avec une étape à faire par moi', { id: 'cases-mine' },
    () => { filters.mine = mine.input.checked; load(); });
  const all = coordinator ? checkbox('Tous les dossiers de la CPTS', { id: 'cases-all' },
    () => { filters.all = all.input.checked; load(); }) : null;

  for (const ev of ['case', 'ack', 'alert', 'notification']) ctx.on(ev, () => { load(); });
  await load();
  return h('section', { class: 'cases-view' },
    h('h1', { text: 'Mes dossiers' }),
    h('form', { class: 'filters', 'aria-label': 'Filtrer les dossiers', onsubmit: (e) => e.preventDefault() },
      h('p', { class: 'field inline' }, h('label', { for: 'cases-pathway', text: 'Parcours' }), select),
      overdue.el, mine.el, all ? all.el : null),
    status.el,
    listBox,
    coordinator ? h('h2', { text: 'Étapes en retard (CPTS)' }) : null,
    coordinator ? lateBox : null);
}

export default { id: 'cases', label: 'Mes dossiers', render };
