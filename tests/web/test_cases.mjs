// test_cases.mjs — the pure functions of web/src/core/cases.js (days from
// the wire's times, French dates, J+n, due soon / overdue, days late, the
// timeline's order, the reschedule rule, reason labels, acknowledgements,
// the words of a notification), run by node on the source file itself (it
// has no DOM and no crypto). Every expected value is written by hand here,
// from docs/PROTOCOL.md, docs/PATHWAYS.md and a calendar, never computed by
// the code under test. TAP on stdout.
//   node tests/web/test_cases.mjs [SOURCE_ROOT]
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const root = process.argv[2] || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const checks = [];
const check = (ok, name, detail = '') => checks.push({ ok: !!ok, name, detail });
const eq = (got, want, name) => check(JSON.stringify(got) === JSON.stringify(want), name,
  `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);

const PLAN = 72;
let c;
try {
  c = await import(pathToFileURL(path.join(root, 'web', 'src', 'core', 'cases.js')).href);
} catch (e) {
  console.log(`1..${PLAN}`);
  console.log(`not ok 1 - import web/src/core/cases.js\n# ${String(e && e.stack || e).replace(/\n/g, '\n# ')}`);
  for (let i = 2; i <= PLAN; i++) console.log(`not ok ${i} - not reached`);
  process.exit(1);
}

const day = (s) => Date.UTC(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10))) / 86400000;

// ---- days (PROTOCOL.md "Care pathways", PATHWAYS.md "Due dates") ----
const J0 = 1795388400000; // 2026-11-23 in Paris: 2026-11-22T23:00:00Z (PROTOCOL.md)
eq(c.dayText(c.dayOfStart(J0)), '2026-11-23', 'j0 1795388400000 names 2026-11-23');
const J2 = Date.parse('2026-11-25T22:59:59.999Z');
eq(c.dayText(c.dayOfDue(J2)), '2026-11-25', 'due_at 2026-11-25T22:59:59.999Z names 2026-11-25');
eq(c.dayOffset(J0, J2), 2, 'and it is J+2');
const J0march = Date.parse('2027-03-25T23:00:00Z');
eq(c.dayOffset(J0march, Date.parse('2027-03-28T21:59:59.999Z')), 2, 'J+2 across the March change (23 h day)');
eq(c.dayText(c.dayOfDue(Date.parse('2027-03-28T21:59:59.999Z'))), '2027-03-28', '… due 2027-03-28');
const J0oct = Date.parse('2027-10-28T22:00:00Z');
eq(c.dayText(c.dayOfStart(J0oct)), '2027-10-29', 'summer-time j0 names 2027-10-29');
eq(c.dayOffset(J0oct, Date.parse('2027-10-31T22:59:59.999Z')), 2, 'J+2 across the October change (25 h day)');
eq(c.dayText(c.dayOfStart(Date.parse('2026-11-23T00:00:00Z'))), '2026-11-23', 'an old UTC-midnight j0 names the same day');

// ---- parsing and French days ----
eq(c.parseDay('2026-12-07'), day('2026-12-07'), 'parseDay 2026-12-07');
eq(c.parseDay('2028-02-29'), day('2028-02-29'), 'parseDay 2028-02-29 (leap year)');
eq(c.parseDay('2026-02-29'), null, 'parseDay 2026-02-29 is no day');
eq(c.parseDay('2026-13-01'), null, 'parseDay month 13 is no day');
eq(c.parseDay('26-12-07'), null, 'parseDay needs YYYY-MM-DD');
eq(c.parseDay(''), null, 'parseDay of nothing');
eq(c.parseDay('1899-12-31'), null, 'parseDay before 1900 (as client/core/day.c)');
eq(c.frenchDay(day('2026-12-07')), 'lundi 7 décembre', 'frenchDay: lundi 7 décembre');
eq(c.frenchDay(day('2026-12-01'), day('2026-12-07')), 'mardi 1er décembre', 'frenchDay: 1er');
eq(c.frenchDay(day('2027-01-04'), day('2026-12-07')), 'lundi 4 janvier 2027', 'frenchDay: the year when not this year');
eq(c.frenchDay(day('2027-08-15'), day('2027-01-01')), 'dimanche 15 août', 'frenchDay: août, dimanche');
eq(c.frenchDay(null), '—', 'frenchDay of nothing');
// frenchTime is in this browser's zone: a local time built here, whatever TZ runs the test
eq(c.frenchTime(new Date(2026, 11, 1, 9, 5).getTime()), '1er décembre 2026 à 09:05',
  'frenchTime: 1er, the month in full, the year, « à » and the hour');
eq(c.frenchTime(0), '—', 'frenchTime of nothing');
eq(c.today(new Date(2026, 11, 7, 23, 59)), day('2026-12-07'), 'today() is the local calendar day (late evening)');
eq(c.today(new Date(2026, 11, 7, 0, 1)), day('2026-12-07'), 'today() is the local calendar day (just after midnight)');
eq(c.dueText({ due_at: J2 }, { j0: J0 }, day('2026-11-20')), 'J+2 · mercredi 25 novembre', 'dueText: J+2 and the day');
eq(c.dueText({ due_at: null }, { j0: J0 }), 'sans échéance', 'dueText without deadline (CLI "no deadline")');

// ---- states, lateness, order ----
const NOW = Date.parse('2026-11-25T10:00:00Z');
eq(c.stepState({ status: 'pending', due_at: J2 }, NOW), 'due_soon', 'pending, 13 h before its deadline: due soon');
eq(c.stepState({ status: 'pending', due_at: J2 }, NOW - 2 * 86400000), 'pending', 'pending, 2.5 days before: pending');
eq(c.stepState({ status: 'pending', due_at: J2 }, J2 + 1), 'overdue', 'pending, past its deadline: overdue');
eq(c.stepState({ status: 'pending', due_at: J2, overdue: true }, NOW - 5 * 86400000), 'overdue', 'the server\'s overdue mark wins');
eq(c.stepState({ status: 'done', due_at: J2, overdue: true }, J2 + 1), 'done', 'done stays done');
eq(c.stepState({ status: 'skipped', due_at: J2 }, J2 + 1), 'skipped', 'skipped stays skipped');
eq(c.stepState({ status: 'pending', due_at: null }, J2 + 1), 'no_deadline', 'no deadline: never due soon or overdue');
eq(c.daysLate({ status: 'pending', due_at: Date.parse('2026-12-04T22:59:59.999Z') }, day('2026-12-07')), 3,
  'due 4 December, today the 7th: 3 days late');
eq(c.daysLate({ status: 'pending', due_at: Date.parse('2026-12-06T22:59:59.999Z') }, day('2026-12-07')), 1,
  'due yesterday: 1 day late (PROTOCOL.md)');
eq(c.daysLate({ status: 'done', due_at: Date.parse('2026-12-04T22:59:59.999Z') }, day('2026-12-07')), 0, 'a done step is not late');
eq(c.lateWords(1), 'en retard de 1 jour', 'lateWords singular');
eq(c.lateWords(3), 'en retard de 3 jours', 'lateWords plural');
const steps = [
  { id: 5, step: 'pending_results', occurrence: 1, due_at: null },
  { id: 3, step: 'gp_consultation', occurrence: 1, due_at: 300 },
  { id: 2, step: 'nurse_followup', occurrence: 2, due_at: 200 },
  { id: 1, step: 'nurse_followup', occurrence: 1, due_at: 100 },
  { id: 4, step: 'coordinator_call', occurrence: 1, due_at: 200 },
];
eq(c.timelineOrder(steps).map((s) => s.id), [1, 2, 4, 3, 5], 'timeline: by deadline, then id, no deadline last');
eq(steps.map((s) => s.id), [5, 3, 2, 1, 4], 'timelineOrder leaves the reply as it was');
eq(c.stepName(steps[2], steps), 'nurse_followup#2', 'a repeated step is named code#n');
eq(c.stepName(steps[1], steps), 'gp_consultation', 'a single one by its code');

// ---- who may act ----
const open = { status: 'open', j0: J0 };
eq(c.canAct({ status: 'pending', assignee: 'me' }, open, 'me', false), true, 'the assignee may act on a pending step');
eq(c.canAct({ status: 'pending', assignee: 'other' }, open, 'me', false), false, 'someone else may not');
eq(c.canAct({ status: 'pending', assignee: null }, open, 'me', true), true, 'a coordinator may');
eq(c.canAct({ status: 'done', assignee: 'me' }, open, 'me', true), false, 'not on a done step');
eq(c.canAct({ status: 'pending', assignee: 'me' }, { status: 'closed' }, 'me', true), false, 'not in a closed case');

// ---- the reschedule rule (PROTOCOL.md step_reschedule) ----
const due9 = { status: 'pending', due_at: Date.parse('2026-12-09T22:59:59.999Z') };
const today7 = day('2026-12-07');
check(/passée/.test(c.checkReschedule('2026-12-06', due9, open, today7).error || ''), 'reschedule: yesterday is refused', JSON.stringify(c.checkReschedule('2026-12-06', due9, open, today7)));
eq(c.checkReschedule('2026-12-07', due9, open, today7), { day: day('2026-12-07') }, 'reschedule: today is accepted');
check(/déjà l’échéance/.test(c.checkReschedule('2026-12-09', due9, open, today7).error || ''), 'reschedule: the current due day is refused');
eq(c.checkReschedule('2028-11-22', due9, open, today7), { day: day('2028-11-22') }, 'reschedule: J0 + 730 days (2028-11-22) is accepted');
check(/730 jours/.test(c.checkReschedule('2028-11-23', due9, open, today7).error || ''), 'reschedule: J0 + 731 days is refused');
check(/invalide/.test(c.checkReschedule('', due9, open, today7).error || ''), 'reschedule: no date is refused');

// ---- codes in French ----
eq(c.SKIP_REASONS.map(([k]) => k), ['patient_declined', 'not_indicated', 'done_elsewhere', 'patient_hospitalised',
  'patient_unreachable', 'rescheduled', 'other'], 'the skip reasons are PROTOCOL.md\'s seven codes');
eq(c.RESCHEDULE_REASONS.map(([k]) => k), ['patient_request', 'patient_unavailable', 'patient_hospitalised',
  'professional_unavailable', 'appointment_date', 'clinical_decision', 'other'], 'the reschedule reasons are PATHWAYS.md\'s seven codes');
eq(c.skipReasonLabel('not_indicated'), 'Non indiquée', 'not_indicated in French');
eq(c.rescheduleReasonLabel('patient_request'), 'À la demande du patient', 'patient_request in French');
eq(c.viaWords('notice_posted'), 'par la publication de l’avis de sortie', 'done_via in the CLI\'s French');
eq(c.caseError({ code: 'not_assignee', message: 'x' }),
  'Seul le responsable de l’étape ou un coordinateur peut la changer\u00a0: demandez-le au responsable ou au coordinateur de la CPTS (not_assignee).',
  'not_assignee: what is wrong, what to do (code)');

// ---- the notice ----
const notice = { seq: 3, posted_by: 'roux', recipients: ['a', 'b', 'c', 'd'], expected: 4, missing: 2,
  acks: [{ user: 'a', acked_at: 1 }, { user: 'z', acked_at: 2 }], missing_users: ['c', 'd'],
  missing_people: [{ user: 'c', name: 'Julie Bernard' }, { user: 'd', name: 'Dr Louis Petit' }] };
const a = c.ackSummary(notice);
eq([a.acknowledged, a.expected, a.acks.map((x) => x.recipient)], [2, 4, [true, false]],
  'acks: 2/4, a non-recipient\'s ack recorded but not counted');
eq([c.ackCell(4, 2), c.ackCell(4, 0), c.ackCell(null, null)], ['2/4', 'tous (4)', 'pas d’avis'], 'the acknowledgement cell as the CLI\'s');
const reply = { member: true, case: { status: 'open' }, notice };
eq([c.canAck(reply, 'b'), c.canAck(reply, 'a'), c.canAck(reply, 'roux'), c.canAck({ ...reply, member: false }, 'b')],
  [true, false, false, false], 'who may acknowledge: a member not yet, not twice, not the poster, not an outsider');

// ---- notifications ----
const n = { id: 9, kind: 'step_overdue', patient_ref: 'P-7K2MQX9D', step_code: 'nurse_first_visit', occurrence: 1,
  step_label: 'Premier passage infirmier', due_at: Date.parse('2026-12-09T22:59:59.999Z'), actor_name: 'Julie Bernard' };
eq(c.notificationText(n, day('2026-12-07')),
  'Étape en retard : Premier passage infirmier de P-7K2MQX9D, mercredi 9 décembre, responsable : Julie Bernard',
  'the page says what, which case, when, who');
const sys = ['alert', 'step_overdue', 'step_due_soon', 'notice_escalated', 'other'].map((k) => c.systemNotification(k));
check(sys.every((t) => !/P-|Julie|infirmier|Bernard/.test(t)) && sys[0] === 'Nouvelle alerte sur un dossier'
  && sys[1] === 'Une étape est en retard', 'the system notification names only the kind', sys.join(' | '));
eq(c.highestId([{ id: 4 }, { id: 9 }, { id: 7 }]), 9, 'notifications_seen upto: the highest id');
eq(c.casesQuery({ mine: true, overdue: false, pathway: 'heart_failure' }), { mine: true, pathway: 'heart_failure' },
  'the cases query leaves out the filters not set');

// ---- the notice's content (notice_view.c's order, po/fr.po's words) ----
const { readFileSync } = await import('node:fs');
const sample = JSON.parse(readFileSync(path.join(root, 'docs', 'examples', 'discharge-notice.json'), 'utf8'));
sample.discharge_date = '2026-11-23';
const rows = c.noticeRows({ type: 'discharge_notice', patient_ref: 'P-7K2MQX9D', notice: sample });
const row = (label) => (rows.find(([l]) => l === label) || [])[1];
eq(row('Patient'), 'LEMAIRE Odette Marie, né(e) le 1948-03-12, INS 2 48 03 45 234 056 72', 'notice: the patient line');
eq(row('Sortie vers'), 'domicile avec soins (HAD, SSIAD, infirmier) : Domicile, avec passages infirmiers (IDEL) et suivi PRADO',
  'notice: the discharge mode in French and its destination');
eq(row('Traitements arrêtés'), ['diltiazem : inotrope négatif, contre-indiqué avec une FEVG altérée ; remplacé par bisoprolol'],
  'notice: a stopped treatment, its reason and replacement');
eq(row('Traitements de sortie')[0], 'furosémide 40 mg, le matin, orale ; durée : au long cours, à adapter au poids [modifié]',
  'notice: a discharge treatment with its duration and change');
eq([row('Produits sanguins'), rows.map(([l]) => l).indexOf('Patient'), rows.length], ['aucun', 0, 19],
  'notice: [] said "aucun"; 19 rows (no referring doctor, no letter), the patient first');
eq([c.noticeRows({ type: 'text', body: 'x' }), c.noticePatientName({ notice: sample })], [null, 'LEMAIRE Odette Marie'],
  'notice: another message is no notice; the patient\'s name as the CLI builds it');

console.log(`1..${PLAN}`);
checks.forEach((x, i) => {
  console.log(`${x.ok ? 'ok' : 'not ok'} ${i + 1} - ${x.name}`);
  if (!x.ok && x.detail) console.log(`# ${x.detail}`);
});
for (let i = checks.length + 1; i <= PLAN; i++) console.log(`not ok ${i} - planned check not made`);
if (checks.length > PLAN) console.log(`not ok ${PLAN + 1} - ${checks.length} checks made, ${PLAN} planned`);
process.exit(checks.every((x) => x.ok) && checks.length === PLAN ? 0 : 1);
