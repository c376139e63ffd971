// The coordinator's dashboard (« Tableau de bord », docs/WEB.md): its
// requests and the pure shaping of what the server returns — the open cases
// of her CPTS counted by pathway and status with a total, the late steps,
// the discharge notices still missing acknowledgements, the escalated ones
// and the week's alerts, each sorted, with short French dates and « depuis
// N jours » — so that it is unit-tested without a browser
// (tests/web/test_dashboard.mjs imports this file with node: no DOM, no
// crypto). Everything here is metadata the server holds (docs/PROTOCOL.md
// "Care pathways"); the patient's name, which only the encrypted case
// thread holds, is given by the caller (ui/view_dashboard.js decrypts it for
// the cases whose thread the coordinator is a member of) as a Map case →
// name, and a case missing from that map is shown by its P-… reference.
// Days, labels, reason codes and the reschedule rule are core/cases.js's.
import { idemKey } from '../net/client.js';
import * as cases from './cases.js';

/** The alerts shown: those of the last ALERT_DAYS days (recent_alerts' default). */
export const ALERT_DAYS = 7;

/** Is the dashboard for this user (the login's USER)? Coordinators and territory users. */
export function isCoordinator(user) {
  return cases.hasRole(user, 'coordinator') || cases.hasRole(user, 'territory');
}

// ---- short French dates -----------------------------------------------------------

const FR_SHORT_DAY = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'short', year: 'numeric',
  timeZone: 'UTC' });

/** "7 déc. 2026" of a day (days since 1970-01-01, as core/cases.js counts them). */
export function shortDay(days) {
  if (days === null || days === undefined || Number.isNaN(days)) return '—';
  return cases.frenchFormat(FR_SHORT_DAY, new Date(days * cases.DAY_MS));
}

/** The calendar day of a UTC ms in this browser's time zone. */
export function localDay(ms) {
  return cases.today(new Date(ms));
}

/** "7 déc. 2026 à 10:12" of a UTC ms, in this browser's time zone. */
export function shortTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  return `${shortDay(localDay(ms))} à ${String(d.getHours()).padStart(2, '0')}:` +
    `${String(d.getMinutes()).padStart(2, '0')}`;
}

/** Whole calendar days from `thenMs` to `nowMs` (this browser's zone), never below 0. */
export function daysSince(thenMs, nowMs) {
  return Math.max(0, localDay(nowMs) - localDay(thenMs));
}

/** « depuis aujourd’hui », « depuis 1 jour », « depuis 3 jours ». */
export function sinceWords(n) {
  if (n <= 0) return 'depuis aujourd’hui';
  return `depuis ${n} jour${n > 1 ? 's' : ''}`;
}

/** « aujourd’hui », « hier », « il y a 3 jours ». */
export function agoWords(n) {
  if (n <= 0) return 'aujourd’hui';
  if (n === 1) return 'hier';
  return `il y a ${n} jours`;
}

// ---- the patient -----------------------------------------------------------------

/** {text, named}: the patient's name and reference for a member's case, else the reference. */
export function patientOf(caseHex, ref, names) {
  const name = names && names.get(caseHex);
  return name ? { text: `${name} (${ref})`, named: true } : { text: ref || '—', named: false };
}

// ---- « Dossiers ouverts » -----------------------------------------------------------

/** The columns of the summary: [key, French header]. */
export const COLUMNS = [
  ['open', 'Ouverts'],
  ['overdue', 'Dont en retard'],
  ['unacked', 'Avis non accusé'],
  ['escalated', 'Escaladés'],
];

/** Which columns a `cases` row counts in (an open case only). */
export function caseKinds(c) {
  if (!c || c.status !== 'open') return [];
  const kinds = ['open'];
  if ((c.overdue || 0) > 0) kinds.push('overdue');
  if (c.ack_missing !== null && c.ack_missing !== undefined && c.ack_missing > 0) kinds.push('unacked');
  if (c.escalated) kinds.push('escalated');
  return kinds;
}

function emptyGroup() {
  return Object.fromEntries(COLUMNS.map(([k]) => [k, []]));
}

const byRef = (a, b) => String(a.patient_ref).localeCompare(String(b.patient_ref)) ||
  String(a.case).localeCompare(String(b.case));

/**
 * The open cases by pathway: {rows: [{pathway, label, counts: {open,
 * overdue, unacked, escalated}, cases: {same keys: [CASE…] by reference}}],
 * total: {label, counts, cases}}. Rows by French label (then code); a
 * pathway with no open case has no row; closed cases are not counted.
 */
export function openSummary(list, pw = {}) {
  const groups = new Map();
  const total = emptyGroup();
  for (const c of list || []) {
    const kinds = caseKinds(c);
    if (kinds.length === 0) continue;
    if (!groups.has(c.pathway)) groups.set(c.pathway, emptyGroup());
    for (const k of kinds) {
      groups.get(c.pathway)[k].push(c);
      total[k].push(c);
    }
  }
  const shape = (g) => ({
    counts: Object.fromEntries(COLUMNS.map(([k]) => [k, g[k].length])),
    cases: Object.fromEntries(COLUMNS.map(([k]) => [k, [...g[k]].sort(byRef)])),
  });
  const rows = [...groups.entries()].map(([pathway, g]) => ({
    pathway, label: cases.pathwayLabel(pw, pathway), ...shape(g),
  }));
  rows.sort((a, b) => a.label.localeCompare(b.label, 'fr') || a.pathway.localeCompare(b.pathway));
  return { rows, total: { pathway: '', label: 'Total', ...shape(total) } };
}

// ---- « Étapes en retard » ----------------------------------------------------------

/** The late steps, most overdue first, then patient reference, then step id (as late_steps). */
export function lateOrder(steps) {
  return [...(steps || [])].sort((a, b) => ((b.days_late || 0) - (a.days_late || 0)) ||
    String(a.patient_ref).localeCompare(String(b.patient_ref)) || ((a.step || 0) - (b.step || 0)));
}

/** A LATE as the row's words. */
export function lateRow(s, pw, names) {
  const p = patientOf(s.case, s.patient_ref, names);
  return {
    patient: p.text,
    named: p.named,
    pathway: cases.pathwayLabel(pw, s.pathway),
    step: s.label || s.code,
    code: s.occurrence > 1 ? `${s.code}#${s.occurrence}` : s.code,
    due: s.due_at ? shortDay(cases.dayOfDue(s.due_at)) : '—',
    dueIso: s.due_at ? cases.dayText(cases.dayOfDue(s.due_at)) : '',
    daysLate: s.days_late || 0,
    late: `${s.days_late || 0} j`,
    owner: s.assignee_name || 'personne',
  };
}

/**
 * Whom a step may be handed to, from case_get's members: {fit, others}.
 * `fit`: the members whose profession is one of the step's roles ("gp",
 * "hospital_doctor|discharge"); `others`: the rest (the server decides);
 * both without the current assignee, by name. A step of the coordinator may
 * also go to the caller herself when she is not in the thread (PROTOCOL.md
 * step_assign): `self` is then true.
 */
export function assignCandidates(step, members, me) {
  const roles = String(step.roles || '').split('|').filter(Boolean);
  const list = (members || []).filter((m) => m.user !== step.assignee)
    .sort((a, b) => String(a.name).localeCompare(String(b.name), 'fr'));
  const fit = list.filter((m) => roles.includes(m.profession));
  const others = list.filter((m) => !roles.includes(m.profession));
  const self = roles.includes('coordinator') && !!me && step.assignee !== me &&
    !(members || []).some((m) => m.user === me);
  return { fit, others, self };
}

// ---- « Avis de sortie non accusés », « Escalades » -------------------------------------

/** The notices, oldest first (then reference). */
export function noticeOrder(notices) {
  return [...(notices || [])].sort((a, b) => ((a.posted_at || 0) - (b.posted_at || 0)) ||
    String(a.patient_ref).localeCompare(String(b.patient_ref)));
}

/** A notice missing acknowledgements as the row's words (nowMs: the server's now). */
export function noticeRow(n, pw, names, nowMs) {
  const p = patientOf(n.case, n.patient_ref, names);
  const people = (n.missing_people || []).map((x) => x.name || 'un professionnel');
  return {
    patient: p.text,
    named: p.named,
    pathway: cases.pathwayLabel(pw, n.pathway),
    postedBy: n.posted_by_name || 'un professionnel',
    posted: shortTime(n.posted_at),
    since: sinceWords(daysSince(n.posted_at, nowMs)),
    acks: `${(n.expected || 0) - (n.missing || 0)}/${n.expected || 0}`,
    missing: people.length ? people.join(', ') : `${n.missing || 0} destinataire(s)`,
    escalated: n.escalated_at ? shortTime(n.escalated_at) : null,
    escalatedSince: n.escalated_at ? sinceWords(daysSince(n.escalated_at, nowMs)) : null,
  };
}

/** The escalated notices (escalated_at set), the earliest escalation first. */
export function escalated(notices) {
  return [...(notices || [])].filter((n) => n.escalated_at)
    .sort((a, b) => (a.escalated_at - b.escalated_at) || String(a.patient_ref).localeCompare(String(b.patient_ref)));
}

// ---- « Alertes de la semaine » -------------------------------------------------------

/** The alerts of the last `days` days before nowMs, newest first. */
export function weekAlerts(alerts, nowMs, days = ALERT_DAYS) {
  const from = nowMs - days * cases.DAY_MS;
  return [...(alerts || [])].filter((a) => (a.at || 0) >= from)
    .sort((a, b) => (b.at - a.at) || ((b.seq || 0) - (a.seq || 0)));
}

/** An alert as the row's words. */
export function alertRow(a, pw, names, nowMs) {
  const p = patientOf(a.case, a.patient_ref, names);
  return {
    when: shortTime(a.at),
    ago: agoWords(daysSince(a.at, nowMs)),
    patient: p.text,
    named: p.named,
    pathway: cases.pathwayLabel(pw, a.pathway),
    kind: a.label || a.kind || 'alerte',
    by: a.by_name || 'un professionnel',
    closed: a.case_status === 'closed',
  };
}

// ---- requests ------------------------------------------------------------------------

/** Every open case the caller may see (her CPTS's; every CPTS for the territory role). */
export const allCases = (conn) => cases.listCases(conn, { all: true });
/** The cases of the caller's own threads (where she may read the patient's name). */
export const ownCases = (conn) => cases.listCases(conn, {});
/** The late steps: her CPTS's; every CPTS's for the territory role. */
export const lateSteps = (conn, user) => cases.lateSteps(conn, cases.hasRole(user, 'territory'));
export const unackedNotices = (conn, user) =>
  conn.request('unacked_notices', cases.hasRole(user, 'territory') ? { all: true } : {});
export const recentAlerts = (conn, user, days = ALERT_DAYS) =>
  conn.request('recent_alerts', cases.hasRole(user, 'territory') ? { days, all: true } : { days });
export const stepAssign = (conn, step, user) =>
  conn.request('step_assign', { idem: idemKey(), step, user });

/** The server's now (op ping's `ts`), or this browser's if it cannot be asked. */
export async function serverNow(conn) {
  try {
    const r = await conn.request('ping');
    return typeof r.ts === 'number' ? r.ts : Date.now();
  } catch {
    return Date.now();
  }
}
