// test_dashboard.mjs — the pure shaping of web/src/core/dashboard.js (the
// coordinator's « Tableau de bord »): open cases counted by pathway × status
// with the total, closed cases left out, the late steps' order and words,
// whom a step may be handed to, the notices' order, « depuis N jours »,
// the escalated ones, the week's alerts, short French dates and the
// patient shown by name only where the caller gives one. Run by node on
// the source file itself (no DOM, no crypto). Every expected value is
// written by hand here from the fixture below and a calendar, never
// computed by the code under test. TAP on stdout.
//   node tests/web/test_dashboard.mjs [SOURCE_ROOT]
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const root = process.argv[2] || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const checks = [];
const check = (ok, name, detail = '') => checks.push({ ok: !!ok, name, detail });
const eq = (got, want, name) => check(JSON.stringify(got) === JSON.stringify(want), name,
  `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);

const PLAN = 47;
let d;
try {
  d = await import(pathToFileURL(path.join(root, 'web', 'src', 'core', 'dashboard.js')).href);
} catch (e) {
  console.log(`1..${PLAN}`);
  console.log(`not ok 1 - import web/src/core/dashboard.js\n# ${String(e && e.stack || e).replace(/\n/g, '\n# ')}`);
  for (let i = 2; i <= PLAN; i++) console.log(`not ok ${i} - not reached`);
  process.exit(1);
}

// ---- who sees it ----
eq(d.isCoordinator({ roles: ['member', 'coordinator'] }), true, 'a coordinator has the dashboard');
eq(d.isCoordinator({ roles: ['member', 'territory'] }), true, 'a territory user has the dashboard');
eq(d.isCoordinator({ roles: ['member', 'discharge'] }), false, 'a discharge doctor has not');
eq(d.isCoordinator(null), false, 'nobody logged in: no dashboard');

// ---- « Dossiers ouverts »: a fixture of 7 cases, counted by hand ----
// hospital_discharge (label "Sortie d'hospitalisation"):
//   A open, 2 late steps, 1 ack missing, escalated
//   B open, 0 late, notice fully acknowledged (ack_missing 0)
//   C open, 1 late, no notice (ack_missing null)
//   D closed, 3 late, 2 missing, escalated: counted nowhere
// heart_failure ("Insuffisance cardiaque"):
//   E open, 0 late, 3 missing, not escalated
//   F open, 4 late, 1 missing, escalated
// anxiety_depression (no label known: its code):
//   G open, nothing late, no notice
const pw = {
  hospital_discharge: { pathway: 'hospital_discharge', label: 'Sortie d\'hospitalisation' },
  heart_failure: { pathway: 'heart_failure', label: 'Insuffisance cardiaque' },
};
const mk = (id, pathway, status, overdue, ackMissing, esc) => ({
  case: id.repeat(32), patient_ref: `P-${id.repeat(8)}`, pathway, status, overdue,
  ack_missing: ackMissing, escalated: esc, j0: 1795388400000,
});
const list = [
  mk('f', 'heart_failure', 'open', 4, 1, true),
  mk('a', 'hospital_discharge', 'open', 2, 1, true),
  mk('d', 'hospital_discharge', 'closed', 3, 2, true),
  mk('c', 'hospital_discharge', 'open', 1, null, false),
  mk('b', 'hospital_discharge', 'open', 0, 0, false),
  mk('e', 'heart_failure', 'open', 0, 3, false),
  mk('9', 'anxiety_depression', 'open', 0, null, false),
];
const s = d.openSummary(list, pw);
eq(s.rows.map((r) => r.pathway), ['anxiety_depression', 'heart_failure', 'hospital_discharge'],
  'one row per pathway with an open case, by French label (a code without label sorts as itself)');
eq(s.rows.map((r) => r.label), ['anxiety_depression', 'Insuffisance cardiaque', 'Sortie d\'hospitalisation'],
  'rows labelled from the pathways, the code when the server has no label');
eq(s.rows[2].counts, { open: 3, overdue: 2, unacked: 1, escalated: 1 },
  'hospital_discharge: 3 open (D closed), 2 late (A, C), 1 ack missing (A), 1 escalated (A)');
eq(s.rows[1].counts, { open: 2, overdue: 1, unacked: 2, escalated: 1 },
  'heart_failure: 2 open, 1 late (F), 2 ack missing (E, F), 1 escalated (F)');
eq(s.rows[0].counts, { open: 1, overdue: 0, unacked: 0, escalated: 0 }, 'anxiety_depression: 1 open, nothing else');
eq(s.total.counts, { open: 6, overdue: 3, unacked: 3, escalated: 2 }, 'total: 6 open, 3 late, 3 ack missing, 2 escalated');
eq(s.total.label, 'Total', 'the total row is "Total"');
eq(s.rows[2].cases.overdue.map((c) => c.patient_ref), ['P-aaaaaaaa', 'P-cccccccc'],
  'the late hospital_discharge cases listed, by reference');
eq(s.total.cases.escalated.map((c) => c.patient_ref), ['P-aaaaaaaa', 'P-ffffffff'],
  'the escalated cases of every pathway, by reference');
check(!s.total.cases.open.some((c) => c.status === 'closed'), 'no closed case in any list');
eq(d.openSummary([], pw).rows, [], 'no case: no row');
eq(d.openSummary([], pw).total.counts, { open: 0, overdue: 0, unacked: 0, escalated: 0 }, 'no case: a zero total');
eq(d.caseKinds(mk('b', 'hospital_discharge', 'open', 0, 0, false)), ['open'],
  'a notice fully acknowledged (ack_missing 0) is not "avis non accusé"');

// ---- short French dates, days since ----
const day = (iso) => Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10))) / 86400000;
eq(d.shortDay(day('2026-12-07')), '7 déc. 2026', '2026-12-07 is "7 déc. 2026"');
eq(d.shortDay(day('2027-02-01')), '1er févr. 2027', 'the first of the month is "1er"; February "févr."');
eq(d.shortDay(day('2026-07-14')), '14 juil. 2026', 'July is "juil."');
eq(d.shortDay(day('2026-06-30')), '30 juin 2026', 'June is "juin" (not abbreviated)');
eq(d.shortDay(null), '—', 'no day: a dash');
// local noon, so that the zone's offset never moves the day
const noon = (iso) => new Date(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10)), 12).getTime();
eq(d.daysSince(noon('2026-12-04'), noon('2026-12-07')), 3, 'posted on the 4th, today the 7th: 3 days');
eq(d.daysSince(noon('2026-12-07') - 11 * 3600000, noon('2026-12-07') + 11 * 3600000), 0,
  'posted at 01:00, now 23:00 the same day: 0 days (calendar days, not 24 h spans)');
eq(d.daysSince(noon('2026-12-08'), noon('2026-12-07')), 0, 'a time after now counts as 0, never negative');
eq(d.daysSince(noon('2026-02-27'), noon('2026-03-02')), 3, 'across the end of February 2026: 3 days');
eq([d.sinceWords(0), d.sinceWords(1), d.sinceWords(3)], ['depuis aujourd’hui', 'depuis 1 jour', 'depuis 3 jours'],
  '« depuis aujourd’hui », « depuis 1 jour », « depuis 3 jours »');
eq([d.agoWords(0), d.agoWords(1), d.agoWords(5)], ['aujourd’hui', 'hier', 'il y a 5 jours'], 'alerts: aujourd’hui, hier, il y a 5 jours');

// ---- the patient ----
const names = new Map([['a'.repeat(32), 'LEMAIRE Odette Marie']]);
eq(d.patientOf('a'.repeat(32), 'P-aaaaaaaa', names), { text: 'LEMAIRE Odette Marie (P-aaaaaaaa)', named: true },
  'a case whose thread she is in: the name and the reference');
eq(d.patientOf('b'.repeat(32), 'P-bbbbbbbb', names), { text: 'P-bbbbbbbb', named: false },
  'any other case: the reference only');

// ---- « Étapes en retard » ----
const late = [
  { case: 'b'.repeat(32), patient_ref: 'P-B', pathway: 'heart_failure', step: 7, code: 'nurse_followup', occurrence: 2,
    label: 'Passage infirmier', roles: 'nurse', due_at: Date.parse('2026-12-04T22:59:59.999Z'), days_late: 3,
    assignee: null, assignee_name: null },
  { case: 'a'.repeat(32), patient_ref: 'P-A', pathway: 'hospital_discharge', step: 12, code: 'gp_consultation', occurrence: 1,
    label: 'Consultation du médecin traitant', roles: 'gp', due_at: Date.parse('2026-12-05T22:59:59.999Z'), days_late: 2,
    assignee: 'c'.repeat(32), assignee_name: 'Dr Claire Martin' },
  { case: 'a'.repeat(32), patient_ref: 'P-A', pathway: 'hospital_discharge', step: 4, code: 'coordinator_call', occurrence: 1,
    label: 'Appel du coordinateur', roles: 'coordinator', due_at: Date.parse('2026-12-04T22:59:59.999Z'), days_late: 3,
    assignee: null, assignee_name: null },
];
eq(d.lateOrder(late).map((x) => x.step), [4, 7, 12], 'most overdue first, then reference (P-A before P-B), then step');
const r = d.lateRow(late[0], pw, names);
eq([r.patient, r.pathway, r.code, r.due, r.daysLate, r.owner, r.dueIso],
  ['P-B', 'Insuffisance cardiaque', 'nurse_followup#2', '4 déc. 2026', 3, 'personne', '2026-12-04'],
  'a late step: reference, pathway label, code#n, due day, days late, « personne » when nobody holds it');
const r2 = d.lateRow(late[1], pw, names);
eq([r2.patient, r2.named, r2.owner], ['LEMAIRE Odette Marie (P-A)', true, 'Dr Claire Martin'],
  'a late step of her own thread: the patient named; the holder by name');
const members = [
  { user: 'c'.repeat(32), name: 'Dr Claire Martin', profession: 'gp' },
  { user: '1'.repeat(32), name: 'Dr Bruno Aubert', profession: 'gp' },
  { user: '2'.repeat(32), name: 'Julie Bernard', profession: 'nurse' },
];
const cand = d.assignCandidates(late[1], members, '5'.repeat(32));
eq([cand.fit.map((m) => m.name), cand.others.map((m) => m.name), cand.self],
  [['Dr Bruno Aubert'], ['Julie Bernard'], false],
  'gp_consultation held by Dr Martin: the other GP fits, the nurse is offered apart, not the holder');
const cand2 = d.assignCandidates(late[2], members, '5'.repeat(32));
eq([cand2.fit.length, cand2.others.length, cand2.self], [0, 3, true],
  'a coordinator\'s step: no member fits, and she may take it herself (not in the thread)');
eq(d.assignCandidates(late[2], [...members, { user: '5'.repeat(32), name: 'Léa', profession: 'nurse' }], '5'.repeat(32)).self, false,
  '… but not as "herself" when she is a member (she is in the list)');

// ---- notices, escalations ----
const notices = [
  { case: 'a'.repeat(32), patient_ref: 'P-A', pathway: 'hospital_discharge', seq: 3, posted_by_name: 'Dr Hélène Roux',
    posted_at: noon('2026-12-04'), escalated_at: noon('2026-12-05'), expected: 3, missing: 2,
    missing_people: [{ user: '1', name: 'Paul Durand' }, { user: '2', name: 'Julie Bernard' }] },
  { case: 'b'.repeat(32), patient_ref: 'P-B', pathway: 'heart_failure', seq: 5, posted_by_name: 'Dr Hélène Roux',
    posted_at: noon('2026-12-06'), escalated_at: null, expected: 4, missing: 1,
    missing_people: [{ user: '1', name: 'Paul Durand' }] },
  { case: 'e'.repeat(32), patient_ref: 'P-E', pathway: 'heart_failure', seq: 2, posted_by_name: null,
    posted_at: noon('2026-12-01'), escalated_at: noon('2026-12-02'), expected: 2, missing: 2, missing_people: [] },
];
eq(d.noticeOrder(notices).map((n) => n.patient_ref), ['P-E', 'P-A', 'P-B'], 'notices: oldest first');
const n0 = d.noticeRow(notices[0], pw, names, noon('2026-12-07'));
eq([n0.patient, n0.since, n0.acks, n0.missing, n0.postedBy],
  ['LEMAIRE Odette Marie (P-A)', 'depuis 3 jours', '1/3', 'Paul Durand, Julie Bernard', 'Dr Hélène Roux'],
  'a notice: named patient, « depuis 3 jours », 1/3, who is missing by name, who posted it');
const n2 = d.noticeRow(notices[2], pw, names, noon('2026-12-07'));
eq([n2.postedBy, n2.missing], ['un professionnel', '2 destinataire(s)'], 'names unknown: said as such, never "null"');
eq(d.escalated(notices).map((n) => n.patient_ref), ['P-E', 'P-A'], 'escalations: only escalated_at set, the earliest first');

// ---- alerts of the week ----
const now = noon('2026-12-07');
const alerts = [
  { case: 'a'.repeat(32), patient_ref: 'P-A', pathway: 'hospital_discharge', seq: 8, kind: 'clinical', label: 'Alerte clinique',
    by_name: 'Dr Claire Martin', at: noon('2026-12-06'), case_status: 'open' },
  { case: 'b'.repeat(32), patient_ref: 'P-B', pathway: 'heart_failure', seq: 9, kind: 'weight_gain', label: 'Prise de poids',
    by_name: 'Julie Bernard', at: noon('2026-12-07') - 3600000 },
  { case: 'b'.repeat(32), patient_ref: 'P-B', pathway: 'heart_failure', seq: 2, kind: 'clinical', label: 'Alerte clinique',
    by_name: 'Julie Bernard', at: noon('2026-11-29') },
];
eq(d.weekAlerts(alerts, now).map((a) => a.seq), [9, 8], 'the alerts of the last 7 days, newest first (the 29 Nov one left out)');
const a0 = d.alertRow(alerts[0], pw, names, now);
eq([a0.patient, a0.kind, a0.by, a0.ago, a0.pathway],
  ['LEMAIRE Odette Marie (P-A)', 'Alerte clinique', 'Dr Claire Martin', 'hier', 'Sortie d\'hospitalisation'],
  'an alert: patient, kind label, by whom, « hier »');
eq([a0.closed, d.alertRow({ ...alerts[0], case_status: 'closed' }, pw, names, now).closed], [false, true],
  'an alert of a case closed since is said so (case_status)');

// ---- the requests: what goes on the wire ----
const sent = [];
const conn = { request: async (op, fields = {}) => { sent.push([op, fields]); return op === 'ping' ? { ts: 123 } : {}; } };
const coord = { roles: ['member', 'coordinator'] };
const territory = { roles: ['member', 'territory'] };
await d.unackedNotices(conn, coord);
await d.unackedNotices(conn, territory);
await d.recentAlerts(conn, coord);
await d.lateSteps(conn, territory);
eq(sent, [['unacked_notices', {}], ['unacked_notices', { all: true }], ['recent_alerts', { days: 7 }],
  ['late_steps', { all: true }]],
'a coordinator asks for her CPTS (no "all"); a territory user for every CPTS ("all"); the alerts of 7 days');
sent.length = 0;
await d.allCases(conn);
await d.ownCases(conn);
eq(sent, [['cases', { all: true }], ['cases', {}]], 'the open cases with "all"; her own threads\' cases without');
sent.length = 0;
await d.stepAssign(conn, 12, 'a'.repeat(32));
check(sent.length === 1 && sent[0][0] === 'step_assign' && sent[0][1].step === 12 && sent[0][1].user === 'a'.repeat(32)
  && /^[0-9a-f]{32}$/.test(sent[0][1].idem), 'step_assign with the step, the user and a fresh idem', JSON.stringify(sent));
eq([await d.serverNow(conn), await d.serverNow({ request: async () => { throw new Error('down'); } }) > 0], [123, true],
  'the server\'s now is ping\'s ts; this browser\'s when ping fails');

console.log(`1..${PLAN}`);
checks.forEach((c, i) => {
  console.log(`${c.ok ? 'ok' : 'not ok'} ${i + 1} - ${c.name}`);
  if (!c.ok) console.log(`# ${String(c.detail).replace(/\n/g, '\n# ')}`);
});
for (let i = checks.length + 1; i <= PLAN; i++) console.log(`not ok ${i} - not reached (the plan has ${PLAN})`);
process.exit(checks.length === PLAN && checks.every((c) => c.ok) ? 0 : 1);
