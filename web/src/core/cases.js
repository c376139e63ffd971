// Care pathways in the browser (docs/PATHWAYS.md, docs/PROTOCOL.md "Care
// pathways"): the requests of the case views and the pure shaping of what
// the server returns — days, French dates, J+n, due soon / overdue, the
// timeline's order, the reason codes with their French labels, the
// acknowledgements — so that it is unit-tested without a browser
// (tests/web/test_cases.mjs imports this file with node: no DOM, no crypto).
//
// The rules are the CLI's (client/core/day.c, client/cli/case_view.c,
// cmd_case.c, cmd_cases.c), its French words those of po/fr.po. Days: the
// server counts them in its CPTS's time zone; a client names a day by the
// nearest UTC midnight (of a case's j0, or of a due_at + 1 ms), so it needs
// no time zone of its own (PROTOCOL.md).
import { idemKey } from '../net/client.js';
import { frenchError, knownCode } from '../net/errors.js';

export const DAY_MS = 86400000;
/** The server's default `due_soon` (PATHWAYS.md "the timer"): 24 h before the deadline. */
export const DUE_SOON_MS = 24 * 3600 * 1000;
/** A reschedule goes at most this many days after J0 (PATHWAYS.md). */
export const RESCHEDULE_MAX_DAYS = 730;

// ---- days ------------------------------------------------------------------------

/** Days since 1970-01-01 of the UTC midnight nearest to ms (client/core/day.c). */
function nearestMidnight(ms) {
  return Math.floor((ms + DAY_MS / 2) / DAY_MS);
}

/** The day a case's j0 (a local midnight, in ms) names. */
export function dayOfStart(ms) {
  return nearestMidnight(ms);
}

/** The day a step's due_at (the last ms of a local day) names. */
export function dayOfDue(ms) {
  return nearestMidnight(ms + 1) - 1;
}

/** J+n of a due_at against the case's j0. */
export function dayOffset(j0Ms, dueMs) {
  return dayOfDue(dueMs) - dayOfStart(j0Ms);
}

function civil(days) {
  const d = new Date(days * DAY_MS);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate() };
}

function pad(n, w = 2) {
  return String(n).padStart(w, '0');
}

/** "2026-12-07" */
export function dayText(days) {
  const c = civil(days);
  return `${pad(c.y, 4)}-${pad(c.m)}-${pad(c.d)}`;
}

/** Days of "YYYY-MM-DD" (a real calendar day, years 1900–2999 as day.c), or null. */
export function parseDay(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(typeof text === 'string' ? text : '');
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1900 || y > 2999 || mo < 1 || mo > 12 || d < 1) return null;
  const days = Date.UTC(y, mo - 1, d) / DAY_MS;
  const c = civil(days);
  return c.m === mo && c.d === d ? days : null;
}

/** Today as this browser's calendar shows it (its own time zone): the forms'. */
export { today } from '../forms/discharge.js';

// French dates from the browser's Intl (CLDR), "1er" for the first of the
// month as French writes it; days (counted from 1970-01-01) in UTC.
const FR_DAY = new Intl.DateTimeFormat('fr-FR', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' });
const FR_DAY_YEAR = new Intl.DateTimeFormat('fr-FR', { weekday: 'long', day: 'numeric', month: 'long',
  year: 'numeric', timeZone: 'UTC' });
const FR_TIME = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric',
  hour: '2-digit', minute: '2-digit' });

/** fmt's text of date, with "1er" for the first of the month. */
export function frenchFormat(fmt, date) {
  return fmt.formatToParts(date).map((p) => (p.type === 'day' && p.value === '1' ? '1er' : p.value)).join('');
}

/** "lundi 7 décembre" ("1er" for the first; the year added when it is not refYear's). */
export function frenchDay(days, refDays = null) {
  if (days === null || days === undefined || Number.isNaN(days)) return '—';
  const ref = refDays === null ? null : civil(refDays).y;
  const sameYear = ref === null || ref === civil(days).y;
  return frenchFormat(sameYear ? FR_DAY : FR_DAY_YEAR, new Date(days * DAY_MS));
}

/** "7 décembre 2026 à 10:12" of a UTC ms, in this browser's time zone. */
export function frenchTime(ms) {
  if (!ms) return '—';
  return frenchFormat(FR_TIME, new Date(ms));
}

/** "J+7 · lundi 14 décembre", or "sans échéance". */
export function dueText(step, caseObj, refDays = null) {
  if (!step || !step.due_at) return 'sans échéance';
  const n = dayOffset(caseObj.j0, step.due_at);
  return `J+${n} · ${frenchDay(dayOfDue(step.due_at), refDays)}`;
}

// ---- steps -----------------------------------------------------------------------

export const STATUS_WORDS = { pending: 'à faire', done: 'faite', skipped: 'non faite' };

/** What a step is now: done, skipped, overdue, due_soon, pending or no_deadline. */
export function stepState(step, nowMs = Date.now()) {
  if (step.status === 'done' || step.status === 'skipped') return step.status;
  if (!step.due_at) return 'no_deadline';
  if (step.overdue === true || nowMs > step.due_at) return 'overdue';
  if (step.due_at - nowMs <= DUE_SOON_MS) return 'due_soon';
  return 'pending';
}

export const STATE_WORDS = {
  done: 'faite',
  skipped: 'non faite',
  overdue: 'en retard',
  due_soon: 'bientôt à échéance',
  pending: 'à faire',
  no_deadline: 'à faire (sans échéance)',
};

/** Whole days a pending step is late (0 when it is not), counted from its due day to todayDays. */
export function daysLate(step, todayDays) {
  if (step.status !== 'pending' || !step.due_at) return 0;
  return Math.max(0, todayDays - dayOfDue(step.due_at));
}

/** "en retard de 3 jours" */
export function lateWords(n) {
  return n <= 0 ? '' : `en retard de ${n} jour${n > 1 ? 's' : ''}`;
}

/** The timeline's order (cmd_case.c step_order): by deadline, steps without one last, then id. */
export function timelineOrder(steps) {
  const key = (s) => (s.due_at ? s.due_at : Number.MAX_SAFE_INTEGER);
  return [...steps].sort((a, b) => (key(a) - key(b)) || ((a.id || 0) - (b.id || 0)));
}

/** "nurse_followup#3" when the code has several occurrences in the case, else the code. */
export function stepName(step, steps) {
  const n = steps.filter((s) => s.step === step.step).length;
  return n > 1 ? `${step.step}#${step.occurrence}` : step.step;
}

/** The step's events (case_get "events"), oldest first. */
export function stepEvents(step, events) {
  return (events || []).filter((e) => e.step === step.id);
}

/** May `me` (user hex) act on this step (complete, skip, reschedule)? As cmd_case.c likely_allowed. */
export function canAct(step, caseObj, me, coordinator) {
  return !!caseObj && caseObj.status === 'open' && step.status === 'pending' &&
    (step.assignee === me || !!coordinator);
}

/** Does the user hold a role ("coordinator", "discharge", "territory")? user: the login's USER. */
export function hasRole(user, role) {
  return !!user && Array.isArray(user.roles) && user.roles.includes(role);
}

// ---- reason codes ----------------------------------------------------------------

/** step_skip's reasons (PROTOCOL.md), in the CLI's order, with their French labels. */
export const SKIP_REASONS = [
  ['patient_declined', 'Refus du patient'],
  ['not_indicated', 'Non indiquée'],
  ['done_elsewhere', 'Faite ailleurs'],
  ['patient_hospitalised', 'Patient hospitalisé'],
  ['patient_unreachable', 'Patient injoignable'],
  ['rescheduled', 'Faite à un autre moment'],
  ['other', 'Autre motif'],
];

/** step_reschedule's reasons (PATHWAYS.md), in the CLI's order, with their French labels. */
export const RESCHEDULE_REASONS = [
  ['patient_request', 'À la demande du patient'],
  ['patient_unavailable', 'Patient indisponible ce jour-là'],
  ['patient_hospitalised', 'Patient hospitalisé'],
  ['professional_unavailable', 'Professionnel indisponible ce jour-là'],
  ['appointment_date', 'Rendez-vous donné pour un autre jour'],
  ['clinical_decision', 'Décision clinique'],
  ['other', 'Autre motif'],
];

/** case_close's reasons. */
export const CLOSE_REASONS = [
  ['completed', 'Parcours terminé'],
  ['readmitted', 'Réhospitalisation'],
  ['deceased', 'Décès'],
  ['moved', 'Déménagement'],
  ['consent_withdrawn', 'Retrait du consentement'],
];

function labelOf(list, code) {
  const hit = list.find(([c]) => c === code);
  return hit ? hit[1] : code;
}

export const skipReasonLabel = (code) => labelOf(SKIP_REASONS, code);
export const rescheduleReasonLabel = (code) => labelOf(RESCHEDULE_REASONS, code);
export const closeReasonLabel = (code) => labelOf(CLOSE_REASONS, code);

/** How an action completed a step (cmd_case.c via_words, French of po/fr.po). */
export function viaWords(via) {
  return {
    notice_posted: 'par la publication de l’avis de sortie',
    letter_attached: 'par l’ajout de la lettre de liaison à l’avis',
    reconciliation_closed: 'par la clôture de la conciliation de sortie',
  }[via] || via || '';
}

export const CASE_STATUS_WORDS = { open: 'ouvert', closed: 'clôturé' };

// ---- reschedule: the server's rule, checked before sending ------------------------------

/**
 * The new due day of a reschedule, as the server checks it (PROTOCOL.md
 * step_reschedule): a real day, today or later, at most 730 days after J0,
 * not the current due day. Returns {day} or {error} (French, with what to do).
 */
export function checkReschedule(text, step, caseObj, todayDays) {
  const day = parseDay(text);
  if (day === null) return { error: 'La nouvelle date est manquante ou invalide : choisissez un jour dans le calendrier.' };
  if (day < todayDays) {
    return { error: `La nouvelle date (${frenchDay(day, todayDays)}) est passée : choisissez aujourd’hui ou un jour à venir.` };
  }
  const j0 = dayOfStart(caseObj.j0);
  if (day > j0 + RESCHEDULE_MAX_DAYS) {
    return { error: `La nouvelle date est plus de ${RESCHEDULE_MAX_DAYS} jours après J0 (au plus tard ${frenchDay(j0 + RESCHEDULE_MAX_DAYS, todayDays)}) : choisissez un jour plus proche.` };
  }
  if (step.due_at && day === dayOfDue(step.due_at)) {
    return { error: 'C’est déjà l’échéance de cette étape : choisissez un autre jour.' };
  }
  return { day };
}

// ---- the notice ------------------------------------------------------------------------

/** The acknowledgements of a NOTICE: counts, who has (recipient or not), who is missing. */
export function ackSummary(notice) {
  if (!notice) return null;
  const recipients = new Set(notice.recipients || []);
  const expected = notice.expected || 0;
  const missing = notice.missing || 0;
  return {
    expected,
    acknowledged: expected - missing,
    missing,
    acks: (notice.acks || []).map((a) => ({ ...a, recipient: recipients.has(a.user) })),
    missingPeople: notice.missing_people ||
      (notice.missing_users || []).map((u) => ({ user: u, name: null })),
  };
}

/** "2/4", "tous (4)" (cmd_cases.c ack_cell), or "pas d’avis". */
export function ackCell(expected, missing) {
  if (expected === null || expected === undefined) return 'pas d’avis';
  return missing === 0 ? `tous (${expected})` : `${expected - missing}/${expected}`;
}

/** May `me` acknowledge? A current member other than the poster who has not yet. */
export function canAck(reply, me) {
  const notice = reply && reply.notice;
  if (!notice || !reply.member || !reply.case || reply.case.status !== 'open') return false;
  if (notice.posted_by === me) return false;
  return !(notice.acks || []).some((a) => a.user === me);
}

// ---- the notice's content (decrypted from the thread) ------------------------------------
// The order and words of client/cli/notice_view.c in po/fr.po's French:
// what `liaison ack` and `case show --notice` print.

const ADMISSION_MODES = { emergency: 'urgences', scheduled: 'programmée',
  transfer: 'transfert depuis un autre établissement', other: 'autre' };
const DISCHARGE_MODES = { home: 'domicile', home_with_care: 'domicile avec soins (HAD, SSIAD, infirmier)',
  nursing_home: 'EHPAD', transfer: 'transfert vers un autre établissement', other: 'autre' };
const CHANGES = { new: 'nouveau', modified: 'modifié', continued: 'poursuivi' };

const str = (o, k) => (o && typeof o[k] === 'string' && o[k] !== '' ? o[k] : null);
const dash = (o, k) => str(o, k) || '-';
const texts = (list) => (Array.isArray(list) ? list.filter((x) => typeof x === 'string') : []);
const objects = (list) => (Array.isArray(list) ? list.filter((x) => x && typeof x === 'object') : []);
const orNone = (items, none = 'aucun') => (items.length ? items : none);

function doctorText(d) {
  const dept = str(d, 'department');
  const phone = str(d, 'phone');
  return `${dash(d, 'name')}${dept ? `, ${dept}` : ''}${phone ? ` (${phone})` : ''}`;
}

/** The patient's name as the CLI builds it (core/notice.c notice_patient_name), or null. */
export function noticePatientName(content) {
  const n = content && (content.notice || content);
  const p = n && n.patient;
  const family = str(p, 'family_name');
  if (!family) return null;
  const given = str(p, 'given_names');
  return given ? `${family} ${given}` : family;
}

/**
 * A decrypted discharge_notice message as rows [label, value] (value: a
 * text, or a list of texts), in notice_view.c's order; null when the
 * message is not a notice.
 */
export function noticeRows(content) {
  if (!content || content.type !== 'discharge_notice') return null;
  const n = content.notice && typeof content.notice === 'object' ? content.notice : null;
  if (!n) return [['Avis', '[l’avis n’a pas de contenu]']];
  const rows = [];
  const p = n.patient || {};
  rows.push(['Patient', `${noticePatientName(content) || '-'}, né(e) le ${dash(p, 'birth_date')}, INS ${dash(p, 'ins')}`]);
  rows.push(['Séjour', `${dash(n, 'admission_date')} → ${dash(n, 'discharge_date')}`]);
  if (str(n, 'admission_mode')) rows.push(['Admission', ADMISSION_MODES[n.admission_mode] || n.admission_mode]);
  if (str(n, 'discharge_mode') || str(n, 'discharge_destination')) {
    const mode = str(n, 'discharge_mode') ? DISCHARGE_MODES[n.discharge_mode] || n.discharge_mode : '-';
    const dest = str(n, 'discharge_destination');
    rows.push(['Sortie vers', dest ? `${mode} : ${dest}` : mode]);
  }
  const hospital = n.establishment && typeof n.establishment === 'object' ? n.establishment : null;
  rows.push(['Médecin hospitalier', `${doctorText(n.hospital_doctor)}${hospital ? `, ${dash(hospital, 'name')}` : ''}`]);
  rows.push(['Médecin traitant', dash(n.gp, 'name')]);
  if (n.referring_doctor) rows.push(['Adressé par', dash(n.referring_doctor, 'name')]);
  rows.push(['Motif d’hospitalisation', dash(n, 'reason_for_admission')]);
  if (n.allergies) rows.push(['Allergies', orNone(texts(n.allergies))]);
  const s = n.stay_summary || {};
  rows.push(['Synthèse du séjour', dash(s, 'summary')]);
  rows.push(['Événements indésirables', orNone(texts(s.adverse_events))]);
  rows.push(['Micro-organismes résistants', orNone(texts(s.resistant_organisms))]);
  rows.push(['Produits sanguins', orNone(texts(s.blood_products))]);
  rows.push(['Dispositifs implantés', orNone(texts(s.implanted_devices))]);
  rows.push(['Traitements de sortie', orNone(objects(n.discharge_treatments).map((t) => {
    const route = str(t, 'route');
    const end = str(t, 'end_date');
    const change = str(t, 'change');
    const comment = str(t, 'comment');
    return `${dash(t, 'drug')} ${dash(t, 'dose')}, ${dash(t, 'frequency')}${route ? `, ${route}` : ''} ; durée : ` +
      `${dash(t, 'duration')}${end ? ` (jusqu’au ${end})` : ''}${change ? ` [${CHANGES[change] || change}]` : ''}` +
      `${comment ? ` — ${comment}` : ''}`;
  }))]);
  rows.push(['Traitements arrêtés', orNone(objects(n.stopped_treatments).map((t) =>
    `${dash(t, 'drug')}${str(t, 'date') ? ` (arrêté le ${t.date})` : ''} : ${dash(t, 'reason')}` +
    `${str(t, 'replaced_by') ? ` ; remplacé par ${t.replaced_by}` : ''}`))]);
  rows.push(['Résultats attendus', orNone(objects(n.results_awaited).map((r) =>
    `${dash(r, 'test')}${str(r, 'expected_by') ? ` (attendu pour le ${r.expected_by})` : ''}` +
    `${str(r, 'comment') ? ` — ${r.comment}` : ''}`))]);
  const fu = n.follow_up || {};
  rows.push(['Prévu', orNone(objects(fu.planned_acts).map((a) =>
    [dash(a, 'act'), str(a, 'date'), str(a, 'with')].filter(Boolean).join(', ')), 'rien')]);
  rows.push(['Recommandations', dash(fu, 'recommendations')]);
  rows.push(['Surveillance', dash(fu, 'monitoring')]);
  const letter = content.letter && typeof content.letter === 'object' ? content.letter : null;
  if (letter) rows.push(['Lettre', `${dash(letter, 'name')} (${Number(letter.size) || 0} octets)`]);
  return rows;
}

// ---- the list of cases ----------------------------------------------------------------------

/** A `cases` row's words: J0, next deadline, counts, acknowledgement. */
export function caseRow(c, todayDays) {
  return {
    j0: frenchDay(dayOfStart(c.j0), todayDays),
    next: c.next_due ? `J+${dayOffset(c.j0, c.next_due)} · ${frenchDay(dayOfDue(c.next_due), todayDays)}` : '—',
    pending: c.pending || 0,
    overdue: c.overdue || 0,
    ack: c.ack_missing === null || c.ack_missing === undefined ? null : c.ack_missing,
    escalated: !!c.escalated,
  };
}

/** The `cases` op's filters from the view's (empty ones left out). */
export function casesQuery({ mine = false, overdue = false, all = false, closed = false, pathway = '' } = {}) {
  const q = {};
  if (mine) q.mine = true;
  if (overdue) q.overdue = true;
  if (all) q.all = true;
  if (closed) q.closed = true;
  if (pathway) q.pathway = pathway;
  return q;
}

// ---- notifications --------------------------------------------------------------------------

const NOTIFICATION_WORDS = {
  step_due_soon: 'étape bientôt à échéance',
  step_overdue: 'étape en retard',
  notice_escalated: 'avis de sortie escaladé (pas d’accusé de réception à temps)',
  alert: 'alerte',
};

export function notificationWords(kind) {
  return NOTIFICATION_WORDS[kind] || kind || 'notification';
}

/** The line shown in the page for a NOTIFICATION (the case's P-… reference, never a name). */
export function notificationText(n, todayDays = null) {
  const who = n.actor_name || 'personne pour l’instant';
  const ref = n.patient_ref || 'dossier';
  if (n.kind === 'alert') {
    const measured = n.alert_kind && n.alert_kind !== 'clinical';
    return `Alerte de ${who} sur ${ref}${measured ? ` (${n.alert_kind} : une mesure a franchi un seuil du parcours)` : ''}`;
  }
  if (n.kind === 'notice_escalated') return `${capital(notificationWords(n.kind))} : ${ref}, avis publié par ${who}`;
  if (n.step_code) {
    const name = n.occurrence > 1 ? `${n.step_code}#${n.occurrence}` : n.step_code;
    const due = n.due_at ? `, ${frenchDay(dayOfDue(n.due_at), todayDays)}` : '';
    return `${capital(notificationWords(n.kind))} : ${n.step_label || name} de ${ref}${due}, responsable : ${who}`;
  }
  return `${capital(notificationWords(n.kind))} : ${ref}`;
}

/**
 * What the browser's system notification says: the kind only — no patient
 * reference, no name, no label, nothing clinical (ui/notify.js).
 */
export function systemNotification(kind) {
  return {
    alert: 'Nouvelle alerte sur un dossier',
    step_overdue: 'Une étape est en retard',
    step_due_soon: 'Une étape arrive à échéance',
    notice_escalated: 'Un avis de sortie attend des accusés de réception',
  }[kind] || 'Un dossier demande votre attention';
}

/** The highest notification id of a list (what notifications_seen takes as `upto`). */
export function highestId(list) {
  return (list || []).reduce((m, n) => Math.max(m, n.id || 0), 0);
}

function capital(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// ---- errors ---------------------------------------------------------------------------------

// The case codes (PROTOCOL.md "Errors") as "ce qui ne va pas : que faire (code)".
/** A LiaisonError in French: every protocol code as net/errors.js says it. */
export function caseError(e) {
  if (e && e.code && knownCode(e.code)) return frenchError(e.code);
  return (e && e.message) || String(e);
}

// ---- requests -------------------------------------------------------------------------------

function request(conn, op, fields = {}) {
  return conn.request(op, fields);
}

export const listCases = (conn, filters) => request(conn, 'cases', casesQuery(filters));
export const getCase = (conn, caseHex) => request(conn, 'case_get', { case: caseHex });
export const lateSteps = (conn, all = false) => request(conn, 'late_steps', all ? { all: true } : {});
export const notifications = (conn) => request(conn, 'notifications');
export const notificationsSeen = (conn, upto) => request(conn, 'notifications_seen', { upto });
export const acknowledge = (conn, caseHex) => request(conn, 'ack', { idem: idemKey(), case: caseHex });
export const stepComplete = (conn, step) => request(conn, 'step_complete', { idem: idemKey(), step });
export const stepSkip = (conn, step, reason) =>
  request(conn, 'step_skip', { idem: idemKey(), step, reason });
export const stepReschedule = (conn, step, due, reason) =>
  request(conn, 'step_reschedule', { idem: idemKey(), step, due, reason });

const pathwayCache = new WeakMap();
/** The pathways (code → {label, steps…}), asked once per connection. */
export function pathways(conn) {
  if (!pathwayCache.has(conn)) {
    pathwayCache.set(conn, request(conn, 'pathways').then(
      (r) => Object.fromEntries((r.pathways || []).map((p) => [p.pathway, p])),
      (e) => { pathwayCache.delete(conn); throw e; }));
  }
  return pathwayCache.get(conn);
}

/** A pathway's French label (from the server), or its code. */
export function pathwayLabel(map, code) {
  const p = map && map[code];
  return (p && p.label) || code;
}
