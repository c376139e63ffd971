// "À traiter": the user's unseen notifications (op `notifications`): a step
// due soon or overdue, a discharge notice escalated, an alert — each with
// its case (P-…, a link to it) and, for an alert, its thread; "Marquer comme
// vu" marks them seen (`notifications_seen` up to the highest id shown, as
// `liaison cases` does once it has shown them).
//
// watch(): from login to lock, the unseen count in the navigation bar
// (shell.js badge) and, on each live `notification` or `alert` event, a
// browser notification through ui/notify.js saying only what kind of thing
// waits ("Une étape est en retard", "Nouvelle alerte sur un dossier"):
// never the patient reference, a name or a label.
import { h, statusLine } from './dom.js';
import * as cases from '../core/cases.js';
import { notify, permissionButton } from './notify.js';

const counters = new WeakMap(); // conn -> recount()

function item(n, todayDays) {
  return h('li', { 'data-id': String(n.id), 'data-kind': n.kind, 'data-case': n.case || '',
    class: n.kind === 'alert' || n.kind === 'step_overdue' || n.kind === 'notice_escalated' ? 'late' : null },
  h('p', {}, h('strong', { text: cases.notificationText(n, todayDays) })),
  h('p', { class: 'hint' }, `Reçue le ${cases.frenchTime(n.created_at)}`),
  h('p', { class: 'links' },
    n.case ? h('a', { href: `#/case/${n.case}`, text: `Ouvrir le dossier ${n.patient_ref || ''}`.trim() }) : null,
    n.kind === 'alert' && n.channel ? h('a', { href: `#/thread/${n.channel}`, text: 'Lire l’alerte dans le fil' }) : null));
}

async function render(ctx) {
  const status = statusLine();
  const listBox = h('div', { 'data-testid': 'notifications' });
  let shown = [];
  const seen = h('button', { type: 'button', 'data-testid': 'seen', text: 'Marquer comme vu', disabled: true,
    onclick: async () => {
      const upto = cases.highestId(shown);
      if (!upto) return;
      seen.disabled = true;
      try {
        await cases.notificationsSeen(ctx.conn, upto);
        status.info('Notifications marquées comme vues.');
        await load();
        const recount = counters.get(ctx.conn);
        if (recount) recount();
      } catch (e) {
        status.error(cases.caseError(e));
        seen.disabled = false;
      }
    } });

  async function load() {
    try {
      const r = await cases.notifications(ctx.conn);
      shown = r.notifications || [];
      const todayDays = cases.today();
      listBox.replaceChildren(shown.length
        ? h('ul', { class: 'notifications' }, shown.map((n) => item(n, todayDays)))
        : h('p', { 'data-testid': 'none', text: 'Rien à traiter pour l’instant.' }));
      seen.disabled = shown.length === 0;
    } catch (e) {
      status.error(cases.caseError(e));
    }
  }
  for (const ev of ['notification', 'alert', 'case']) ctx.on(ev, () => { load(); });
  await load();
  const ask = permissionButton(h);
  return h('section', {},
    h('h1', { text: 'À traiter' }),
    ask ? h('p', {}, ask, ' ', h('small', { text: 'pour être prévenu quand cet onglet est ouvert en arrière-plan (sans aucune donnée du patient).' })) : null,
    status.el,
    listBox,
    h('p', {}, seen));
}

/** From login to lock: the badge of unseen notifications and the browser's notifications. */
function watch(ctx, badge) {
  let alive = true;
  const recount = async () => {
    try {
      const r = await cases.notifications(ctx.conn);
      if (alive) badge((r.notifications || []).length);
    } catch {
      // the connection closed (lock); the next login counts again
    }
  };
  counters.set(ctx.conn, recount);
  const live = (ev) => {
    notify(cases.systemNotification(ev.kind || ev.ev), 'Ouvrez Liaison pour voir de quoi il s’agit.',
      ev.case ? () => ctx.go('case', ev.case) : () => ctx.go('notifications'));
    recount();
  };
  const offs = [ctx.conn.on('notification', live), ctx.conn.on('alert', (ev) => live({ ...ev, kind: 'alert' })),
    ctx.conn.on('case', (ev) => { if (ev.change === 'closed') recount(); })];
  recount();
  return () => {
    alive = false;
    for (const off of offs) off();
  };
}

export default { id: 'notifications', label: 'À traiter', render, watch };
