#!/usr/bin/env node
// test_forms.mjs — the browser's form rules (web/src/forms/discharge.js and
// measure.js, imported as they are) give the same verdicts as the real CLI.
// For each case of a table, the same input goes to `liaison discharge
// --check --notice FILE [--date D]` (or `liaison measure CASE KIND ARGS
// [--at D]`, whose checks run before any profile is opened) in French and to
// the browser's pure functions, and the two lists of problems must be equal,
// line for line and in order: valid notices, each required field missing,
// each field malformed or too long, unknown fields, dates out of order, INS,
// RPPS, FINESS, ATC, modes. A valid notice's checked copy must equal the
// CLI's (`--json`). Then the threshold evaluation against the hand-computed
// cases of tests/unit/test_measure.c (the CLI evaluates them only against a
// server; test_web_forms.py does that end to end). Prints TAP.
//
// Usage: LIAISON=path/to/liaison node tests/web/test_forms.mjs SOURCE_ROOT
// Needs msgfmt (gettext) and the fr_FR.UTF-8 locale, as test_french.py.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(process.argv[2] || '.');
const D = await import(pathToFileURL(path.join(root, 'web/src/forms/discharge.js')).href);
const M = await import(pathToFileURL(path.join(root, 'web/src/forms/measure.js')).href);

let n = 0;
let failed = 0;
function tap(ok, name, detail = '') {
  n += 1;
  if (!ok) failed += 1;
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!ok && detail) for (const l of String(detail).split('\n')) console.log(`# ${l}`);
}

const liaison = process.env.LIAISON;
const tmp = mkdtempSync(path.join(tmpdir(), 'lsn-forms-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

// The French catalogue, built here from po/fr.po (the liaison under test may
// be installed elsewhere than its build tree).
let env;
try {
  if (!liaison) throw new Error('LIAISON is not set');
  const dir = path.join(tmp, 'locale', 'fr', 'LC_MESSAGES');
  mkdirSync(dir, { recursive: true });
  execFileSync('msgfmt', ['-o', path.join(dir, 'liaison.mo'), path.join(root, 'po', 'fr.po')]);
  env = { PATH: process.env.PATH, HOME: path.join(tmp, 'home'), LC_ALL: 'fr_FR.UTF-8', LANG: 'fr_FR.UTF-8',
    LANGUAGE: '', LIAISON_LOCALEDIR: path.join(tmp, 'locale') };
} catch (e) {
  console.log('1..1');
  tap(false, 'the CLI and its French catalogue are there', String(e.message || e));
  process.exit(1);
}

function cli(args) {
  const r = spawnSync(liaison, args, { env, encoding: 'utf8', timeout: 30000 });
  return { rc: r.status, out: r.stdout || '', err: r.stderr || '' };
}

// ---- the discharge notice -------------------------------------------------------

const example = JSON.parse(readFileSync(path.join(root, 'docs/examples/discharge-notice.json'), 'utf8'));
const clone = (o) => JSON.parse(JSON.stringify(o));
const DATE = '2026-11-30';
// the example with every optional date written in, all within bounds
function full() {
  const x = clone(example);
  x.discharge_date = DATE;
  x.discharge_treatments[0].end_date = '2027-01-31';
  x.stopped_treatments[0].date = '2026-11-20';
  x.results_awaited[0].expected_by = '2026-12-03';
  x.follow_up.planned_acts[0].date = '2026-12-07';
  return x;
}
const set = (mut) => () => { const x = full(); mut(x); return x; };
const del = (pathText) => set((x) => {
  const parts = pathText.split('.');
  let o = x;
  for (const p of parts.slice(0, -1)) o = /^\d+$/.test(p) ? o[Number(p)] : o[p];
  delete o[parts[parts.length - 1]];
});
const long = (n, ch = 'a') => ch.repeat(n);

const NOTICE_CASES = [
  ['the example, every date in', full, null],
  ['the example without discharge_date, --date gives it', () => clone(example), DATE],
  ['the example without discharge_date nor --date', () => clone(example), null],
  ['--date agrees with discharge_date', full, DATE],
  ['--date disagrees with discharge_date', full, '2026-12-01'],
  ['not an object', () => [1, 2], null],
  ['an empty object', () => ({}), null],
  ['unknown fields at two levels', set((x) => { x.patiente = 'x'; x.gp.adresse = 'y'; }), null],
  ['null counts as absent', set((x) => { x.allergies = null; x.sex = undefined; x.referring_doctor = null; }), null],
  // each required field missing
  ...['patient', 'patient.family_name', 'patient.given_names', 'patient.birth_date', 'patient.ins', 'gp',
    'gp.name', 'hospital_doctor', 'hospital_doctor.name', 'admission_date', 'reason_for_admission',
    'stay_summary', 'stay_summary.summary', 'stay_summary.adverse_events', 'stay_summary.resistant_organisms',
    'stay_summary.blood_products', 'stay_summary.implanted_devices', 'discharge_treatments',
    'discharge_treatments.0.drug', 'discharge_treatments.1.dose', 'discharge_treatments.2.frequency',
    'discharge_treatments.3.duration', 'stopped_treatments', 'stopped_treatments.0.reason', 'results_awaited',
    'results_awaited.0.test', 'follow_up', 'follow_up.planned_acts', 'follow_up.planned_acts.1.act',
    'follow_up.recommendations', 'follow_up.monitoring', 'establishment.name']
    .map((p) => [`missing ${p}`, del(p), null]),
  // optional fields left out: still complete
  ...['patient.sex', 'gp.rpps', 'establishment', 'admission_mode', 'discharge_mode', 'allergies',
    'discharge_treatments.0.atc', 'discharge_treatments.0.end_date', 'stopped_treatments.0.replaced_by']
    .map((p) => [`optional ${p} left out`, del(p), null]),
  // texts
  ['a name of 200 bytes', set((x) => { x.gp.name = long(200); }), null],
  ['a name of 201 bytes', set((x) => { x.gp.name = long(201); }), null],
  ['a name of 100 two-byte characters (200 bytes)', set((x) => { x.gp.name = long(100, 'é'); }), null],
  ['a name of 101 two-byte characters (202 bytes)', set((x) => { x.gp.name = long(101, 'é'); }), null],
  ['an empty drug', set((x) => { x.discharge_treatments[0].drug = ''; }), null],
  ['a blank family name', set((x) => { x.patient.family_name = '   '; }), null],
  ['a line break in a one-line field', set((x) => { x.hospital_doctor.department = 'a\nb'; }), null],
  ['a tab in a one-line field', set((x) => { x.hospital_doctor.phone = '02\t38'; }), null],
  ['line breaks in the summary', set((x) => { x.stay_summary.summary = 'ligne 1\nligne 2\tfin'; }), null],
  ['a summary of 4000 bytes', set((x) => { x.stay_summary.summary = long(4000); }), null],
  ['a summary of 4001 bytes', set((x) => { x.stay_summary.summary = long(4001); }), null],
  ['a monitoring only of line breaks', set((x) => { x.follow_up.monitoring = '\n\n'; }), null],
  ['a DEL character', set((x) => { x.reason_for_admission = 'a\u007fb'; }), null],
  ['a number instead of a text', set((x) => { x.gp.name = 42; x.admission_date = 20261116; }), null],
  ['an object instead of a text', set((x) => { x.patient.ins = { a: 1 }; }), null],
  ['a text instead of an object', set((x) => { x.gp = 'Dr Martin'; x.follow_up = []; }), null],
  // lists
  ['a text instead of a list', set((x) => { x.allergies = 'aucune'; x.stay_summary.blood_products = {}; }), null],
  ['lists of 100 entries', set((x) => { x.allergies = Array(100).fill('x'); }), null],
  ['a list of 101 entries', set((x) => { x.allergies = Array(101).fill('x'); }), null],
  ['101 treatments', set((x) => { x.discharge_treatments = Array(101).fill(x.discharge_treatments[1]); }), null],
  ['bad entries in a list of texts', set((x) => { x.stay_summary.adverse_events = ['ok', '', 3, long(201), 'a\nb']; }), null],
  ['a text in a list of objects', set((x) => { x.results_awaited = ['NFS', { test: 'BNP' }]; }), null],
  ['empty lists state none', set((x) => {
    x.discharge_treatments = []; x.stopped_treatments = []; x.results_awaited = []; x.follow_up.planned_acts = [];
    x.allergies = [];
  }), null],
  // dates
  ['a 30 February', set((x) => { x.admission_date = '2026-02-30'; }), null],
  ['a 29 February of a leap year', set((x) => { x.patient.birth_date = '1948-02-29'; x.patient.ins = '2 48 02 45 234 056 63'; }), null],
  ['a date written 16/11/2026', set((x) => { x.admission_date = '16/11/2026'; }), null],
  ['a date in 1899', set((x) => { x.patient.birth_date = '1899-12-31'; }), null],
  ['a date with a time', set((x) => { x.discharge_treatments[1].end_date = '2027-01-01T00:00'; }), null],
  ['a long non-date (cut at 40 bytes)', set((x) => { x.results_awaited[0].expected_by = long(60, 'x'); }), null],
  ['a birth date in the future', set((x) => { x.patient.birth_date = '2999-01-01'; }), null],
  ['an admission before the birth', set((x) => { x.admission_date = '1940-01-01'; }), null],
  ['a discharge before the admission', set((x) => { x.discharge_date = '2026-11-15'; }), null],
  ['a discharge on the admission day', set((x) => { x.discharge_date = '2026-11-16'; x.follow_up.planned_acts[0].date = '2026-11-16'; x.discharge_treatments[0].end_date = '2026-11-16'; x.stopped_treatments[0].date = '2026-11-16'; }), null],
  ['entries dated outside the stay', set((x) => {
    x.results_awaited[0].expected_by = '2026-11-15';
    x.follow_up.planned_acts[1].date = '2026-11-29';
    x.discharge_treatments[2].end_date = '2026-11-01';
    x.stopped_treatments[0].date = '2026-12-01';
  }), null],
  ['a treatment stopped before the stay', set((x) => { x.stopped_treatments[0].date = '2026-11-15'; }), null],
  ['entries dated on the bounds', set((x) => {
    x.results_awaited[0].expected_by = '2026-11-16';
    x.follow_up.planned_acts[1].date = DATE;
    x.discharge_treatments[2].end_date = DATE;
    x.stopped_treatments[0].date = DATE;
  }), null],
  ['dates compared even when other fields are wrong', set((x) => {
    x.gp.rpps = '123'; x.follow_up.planned_acts[1].date = '2026-11-01';
  }), null],
  // identifiers
  ['an INS of 14 characters', set((x) => { x.patient.ins = '2 48 03 45 234 056 7'; }), null],
  ['an INS of 31 characters', set((x) => { x.patient.ins = long(31, '1'); }), null],
  ['an INS of 32 characters', set((x) => { x.patient.ins = long(32, '1'); }), null],
  ['an INS with a letter', set((x) => { x.patient.ins = '2 48 03 4X 234 056 72'; }), null],
  ['an INS starting with 5', set((x) => { x.patient.ins = '5 48 03 45 234 056 72'; }), null],
  ['an INS with a wrong key', set((x) => { x.patient.ins = '2 48 03 45 234 056 73'; }), null],
  ['an INS with letters in the key', set((x) => { x.patient.ins = '2 48 03 45 234 056 7A'; }), null],
  ['an INS in lower case letters (Corsica, 2a)', set((x) => { x.patient.ins = '2 48 03 2a 234 056 ' + String(97 - (Number('2480319234056') % 97)).padStart(2, '0'); }), null],
  ['an INS of Corsica (2B)', set((x) => { x.patient.ins = '248032B234056' + String(97 - (Number('2480318234056') % 97)).padStart(2, '0'); }), null],
  ['the documented INS 2 55 08 14 168 025 38', set((x) => {
    x.patient.ins = '2 55 08 14 168 025 38'; x.patient.birth_date = '1955-08-01';
  }), null],
  ['an INS born in another month', set((x) => { x.patient.birth_date = '1948-04-12'; }), null],
  ['an INS born in another year', set((x) => { x.patient.birth_date = '1949-03-12'; }), null],
  ['an INS whose month is unknown (99)', set((x) => {
    x.patient.ins = '2 48 99 45 234 056 ' + String(97 - (Number('2489945234056') % 97)).padStart(2, '0');
  }), null],
  ['an INS of a woman, sex M', set((x) => { x.patient.sex = 'M'; }), null],
  ['sex f in lower case', set((x) => { x.patient.sex = 'f'; }), null],
  ['an INS mismatch is not checked while another field is wrong', set((x) => {
    x.patient.sex = 'M'; x.gp.name = '';
  }), null],
  ['an NIA starting with 7', set((x) => {
    x.patient.ins = '7 48 03 45 234 056 ' + String(97 - (Number('7480345234056') % 97)).padStart(2, '0');
    x.patient.sex = 'M';
  }), null],
  ['an RPPS with a wrong check digit', set((x) => { x.gp.rpps = '10101010104'; }), null],
  ['an RPPS of 10 digits', set((x) => { x.hospital_doctor.rpps = '1099887766'; }), null],
  ['a FINESS with a wrong check digit', set((x) => { x.establishment.finess = '750012345'; }), null],
  ['ATC codes of each level', set((x) => {
    x.discharge_treatments[0].atc = 'C'; x.discharge_treatments[1].atc = 'C07';
    x.discharge_treatments[2].atc = 'C07A'; x.discharge_treatments[3].atc = 'C07AB';
  }), null],
  ['malformed ATC codes', set((x) => {
    x.discharge_treatments[0].atc = 'c07ab07'; x.discharge_treatments[1].atc = 'C07AB0';
    x.stopped_treatments[0].atc = 'C08DB011';
  }), null],
  // modes
  ['an unknown admission mode', set((x) => { x.admission_mode = 'urgences'; }), null],
  ['a discharge mode in upper case', set((x) => { x.discharge_mode = 'HOME'; }), null],
  ['an unknown change', set((x) => { x.discharge_treatments[0].change = 'stopped'; }), null],
  ['a transfer without destination', set((x) => { x.discharge_mode = 'transfer'; delete x.discharge_destination; }), null],
  ['a transfer with its destination', set((x) => { x.discharge_mode = 'transfer'; x.discharge_destination = 'SMR de Tours'; }), null],
  ['everything wrong at once', () => ({
    patient: { family_name: '', birth_date: 'hier', ins: '1', sex: 'X', extra: 1 },
    gp: {}, hospital_doctor: { name: 'x', rpps: 'y' }, admission_date: '2026-13-01',
    discharge_mode: 'transfer', stay_summary: {}, discharge_treatments: [{}], stopped_treatments: [{}],
    results_awaited: [{}], follow_up: { planned_acts: [{}] },
  }), '2026-11-30'],
  ['larger than 24 KiB', set((x) => { x.allergies = Array(100).fill(long(200)); x.stay_summary.adverse_events = Array(40).fill(long(200)); }), null],
];

const NOW = D.today();
// today is the browser's calendar day, not UTC's: 00:30 on 8 December in the
// browser's zone is the 8th, 23:59 on the 7th the 7th, whatever TZ is
tap(D.today(new Date(2026, 11, 8, 0, 30)) === D.parseDay('2026-12-08') &&
    D.today(new Date(2026, 11, 7, 23, 59)) === D.parseDay('2026-12-07'),
    "today(): the browser's calendar day (local midnight, not UTC's)");
let caseNo = 0;
function runNotice(name, make, date) {
  const obj = make();
  const file = path.join(tmp, `n${++caseNo}.json`);
  writeFileSync(file, JSON.stringify(obj));
  const args = ['discharge', '--check', '--notice', file];
  if (date) args.push('--date', date);
  const r = cli(args);
  const prefix = `liaison: n${caseNo}.json: `;
  const lines = r.err.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  const mine = D.checkNotice(obj, { date, now: NOW });
  const got = mine.problems.map((p) => `${p.path}: ${p.message}`);
  const verdict = r.rc === 0 ? 'complete' : r.rc === 2 ? `${lines.length} problem(s)` : `rc ${r.rc}`;
  const same = ((r.rc === 0) === (got.length === 0)) && (r.rc === 0 || r.rc === 2) &&
    JSON.stringify(lines) === JSON.stringify(got);
  tap(same, `notice: ${name}: the browser says what the CLI says (${verdict})`,
    `CLI rc=${r.rc}\n${r.err}\nbrowser:\n${got.join('\n')}`);
  return { r, mine, obj, file, date };
}

console.log(`# ${NOTICE_CASES.length} notices`);
const results = NOTICE_CASES.map(([name, make, date]) => runNotice(name, make, date));

// the checked copy of valid notices, as the CLI's --json gives it
for (const i of [0, 1]) {
  const { mine, file, date } = results[i];
  const r = spawnSync(liaison, ['--json', 'discharge', '--check', '--notice', file, ...(date ? ['--date', date] : [])],
    { env, encoding: 'utf8' });
  let cliNotice = null;
  try { cliNotice = JSON.parse(r.stdout).notice; } catch { /* reported below */ }
  tap(r.status === 0 && mine.notice && JSON.stringify(cliNotice) === JSON.stringify(mine.notice) &&
    mine.notice.patient.ins === '248034523405672',
  `notice: ${NOTICE_CASES[i][0]}: the checked copy equals the CLI's (INS normalised, discharge_date filled)`,
  `${r.stdout}\n${r.stderr}\n${JSON.stringify(mine.notice)}`);
}
{
  const r = results.find((x) => x.r.rc === 2 && x.mine.problems.length === 3);
  const tail = r ? r.r.err.trim().split('\n').pop() : '';
  tap(r && tail === `liaison: ${D.problemsSummary(3, r.file)}`, 'notice: the closing line in French, plural',
    tail);
}
tap(D.problemsSummary(1, 'x') === '1 problème dans x : rien n\'a été envoyé ; corrigez le fichier et relancez la commande',
  'notice: the closing line in French, singular');

// the content posted in the thread: the CLI's shape
{
  const c = D.noticeContent({ caseHex: 'ab', patientRef: 'P-1', pathway: 'heart_failure', j0: DATE,
    notice: { x: 1 }, letter: { type: 'file', caption: '', attachment: 'cd', name: 'l.pdf', size: 3 } });
  tap(JSON.stringify(c) === JSON.stringify({ type: 'discharge_notice', version: 1, case: 'ab', patient_ref: 'P-1',
    pathway: 'heart_failure', j0: DATE, notice: { x: 1 }, letter: { attachment: 'cd', name: 'l.pdf', size: 3 } }),
  'notice: the message content is the CLI\'s (letter without type and caption)', JSON.stringify(c));
}

// ---- measurements: what is typed -------------------------------------------------------

const yesterday = D.formatDay(NOW - 1);
const tomorrow = D.formatDay(NOW + 1);
const MEASURE_CASES = [
  ['weight', ['82.5']], ['weight', ['82,35']], ['weight', ['20']], ['weight', ['350']], ['weight', ['19.999']],
  ['weight', ['350.001']], ['weight', ['400']], ['weight', ['82.3456']], ['weight', ['82.']], ['weight', ['.5']],
  ['weight', ['1e2']], ['weight', ['8 2']], ['weight', ['1234567890']], ['weight', ['']], ['weight', ['80', '81']],
  ['potassium', ['5.83']], ['potassium', ['5,8.1']], ['potassium', ['0.9']], ['potassium', ['10']],
  ['creatinine', ['281.5']], ['creatinine', ['3000']], ['creatinine', ['3000.5']], ['creatinine', ['9']],
  ['nyha', ['III']], ['nyha', ['4']], ['nyha', ['V']], ['nyha', ['iii']], ['nyha', ['0']], ['nyha', ['']], ['potassium', [' 4.5']],
  ['bp', ['130/80', '72']], ['bp', ['80/130', '70']], ['bp', ['80/80', '70']], ['bp', ['130-80', '72']],
  ['bp', ['130/80']], ['bp', ['130.5/80', '72']], ['bp', ['301/80', '72']], ['bp', ['130/19', '72']],
  ['bp', ['130/80', '251']], ['bp', ['130/80', '19']], ['bp', ['1300000000000/80', '72']], ['bp', ['/80', '72']],
  ['phq9', [...'111111111']], ['phq9', [...'333322220']], ['phq9', [...'123']], ['phq9', [...'11111111', '4']],
  ['phq9', [...'1111111', 'x', '1']], ['phq9', [...'11111111', '10']],
  ['temperature', ['37.5']],
  ['weight', ['80'], yesterday], ['weight', ['80'], tomorrow], ['weight', ['80'], '2026-02-30'],
  ['weight', ['400'], tomorrow], ['weight', ['80'], '07/12/2026'],
];

for (const [kind, args, at] of MEASURE_CASES) {
  const cliArgs = ['measure', 'P-TEST0000', kind, ...args, ...(at ? ['--at', at] : [])];
  const r = cli(cliArgs);
  const when = M.parseAt(at, NOW);
  const parsed = when.ok ? M.parseMeasurement(kind, args, when.day) : null;
  let want;
  if (!when.ok) want = `liaison: ${when.why}`;
  else if (!parsed.ok) want = `liaison: ${parsed.why} ; voir liaison measure --help`;
  else want = null;
  // a valid entry passes the checks and stops at the missing profile (rc 1)
  const errLine = r.err.trim().split('\n')[0] || '';
  const same = want === null ? r.rc === 1 && errLine.includes('aucun profil')
    : r.rc === 2 && errLine === want;
  tap(same, `measure ${kind} ${args.join(' ')}${at ? ` --at ${at}` : ''}: the browser says what the CLI says ` +
    `(${want === null ? 'valid' : 'refused'})`, `CLI rc=${r.rc} ${r.err}\nbrowser: ${want}`);
}

// the message both ways
{
  const w = M.parseMeasurement('weight', ['82,35'], NOW).m;
  const c = M.encodeMeasurement(w, 'ab');
  tap(JSON.stringify(c) === JSON.stringify({ type: 'measurement', version: 1, case: 'ab', kind: 'weight',
    at: D.formatDay(NOW), values: { weight: 82.35 } }), 'measure: a weight\'s message content', JSON.stringify(c));
  const p = M.parseMeasurement('phq9', [...'333322220'], NOW).m;
  const pc = M.encodeMeasurement(p, 'ab');
  tap(JSON.stringify(pc.values) === '{"phq9_total":20,"phq9_item9":0}' && pc.items.join('') === '333322220',
    'measure: a PHQ-9 carries the total, item 9 and the nine answers', JSON.stringify(pc));
  const b = M.encodeMeasurement(M.parseMeasurement('bp', ['130/80', '72'], NOW).m, 'ab');
  tap(JSON.stringify(b.values) === '{"systolic":130,"diastolic":80,"heart_rate":72}',
    'measure: bp as three values', JSON.stringify(b));
  const back = M.decodeMeasurement(JSON.parse(JSON.stringify(pc)));
  tap(back && back.values[0].milli === 20000 && back.items[8] === 0, 'measure: a content decodes back');
  const lie = clone(pc);
  lie.values.phq9_total = 5;
  tap(M.decodeMeasurement(lie) === null, 'measure: a PHQ-9 whose total is not its answers\' is refused');
  const far = clone(c);
  far.values.weight = 400;
  const extra = clone(c);
  extra.values.potassium = 4;
  const fine = clone(c);
  fine.values.weight = 82.3456;
  tap(M.decodeMeasurement(far) === null && M.decodeMeasurement(extra) === null &&
    M.decodeMeasurement(fine) === null && M.decodeMeasurement({ ...c, version: 2 }) === null,
  'measure: out of range, an extra value, 4 decimals, another version: refused on reading');
}

// ---- thresholds (the cases of tests/unit/test_measure.c) -----------------------------------

const T = (measure, rule, amount, days, kind) => M.thresholdFromJson({ measure, rule, amount, days, alert_kind: kind });
const pt = (measure, day, seq, milli) => ({ measure, day, seq, milli });
{
  const t = T('weight', 'rise', 2.0, 3, 'weight_gain');
  tap(t && t.amountMilli === 2000 && t.days === 3, 'threshold: weight +2 kg within 3 days read from pathways');
  const cases = [
    [[pt('weight', 100, 5, 80000), pt('weight', 103, 9, 82000)], 1, true, '+2.0 kg in exactly 3 days'],
    [[pt('weight', 100, 5, 80000), pt('weight', 103, 9, 82000)], 0, false, 'nothing before the first'],
    [[pt('weight', 100, 5, 80000), pt('weight', 103, 9, 81900)], 1, false, '+1.9 kg in 3 days'],
    [[pt('weight', 100, 5, 80000), pt('weight', 104, 9, 82500)], 1, false, '+2.5 kg over 4 days'],
    [[pt('weight', 100, 5, 80000), pt('weight', 101, 6, 81000), pt('weight', 104, 9, 82500)], 2, false,
      '+1.5 in 3 days, +2.5 in 4'],
    [[pt('weight', 102, 5, 80000), pt('weight', 103, 6, 79000), pt('weight', 104, 9, 81000)], 2, true,
      'a dip then a rise: +2.0 in 1 day'],
    [[pt('weight', 100, 5, 84000), pt('weight', 101, 9, 80000)], 1, false, 'a loss never crosses'],
    [[pt('weight', 100, 5, 80000), pt('potassium', 100, 6, 1000), pt('weight', 100, 7, 82000)], 2, true,
      'same day: the earlier message is the earlier value'],
    [[pt('weight', 100, 5, 80000), pt('weight', 99, 9, 83000)], 1, false, 'a back-dated entry'],
  ];
  for (const [pts, i, want, name] of cases) tap(M.crosses(t, pts, pts[i]) === want, `threshold: weight rise: ${name}`);
  const hyper = T('potassium', 'above', 5.5, null, 'hyperkalaemia');
  const hypo = T('potassium', 'below', 3.5, null, 'hypokalaemia');
  const p = (milli) => pt('potassium', 1, 1, milli);
  tap(!M.crosses(hyper, [p(5500)], p(5500)) && M.crosses(hyper, [p(5600)], p(5600)) &&
    !M.crosses(hypo, [p(3500)], p(3500)) && M.crosses(hypo, [p(3400)], p(3400)) &&
    !M.crosses(hypo, [p(5600)], p(5600)), 'threshold: 5.5 is not above 5.5, 3.5 is not below 3.5');
  const phq = [T('phq9_item9', 'at_least', 1, null, 'suicide_risk'), T('phq9_total', 'at_least', 20, null,
    'severe_depression')];
  const entry = (total, item9, seq = 7) => [pt('phq9_total', 10, seq, total), pt('phq9_item9', 10, seq, item9)];
  tap(JSON.stringify(M.evaluate(phq, entry(19000, 1000), 7)) === '["suicide_risk"]' &&
    JSON.stringify(M.evaluate(phq, entry(20000, 0), 7)) === '["severe_depression"]' &&
    M.evaluate(phq, entry(19000, 0), 7).length === 0 &&
    JSON.stringify(M.evaluate(phq, entry(24000, 2000), 7)) === '["suicide_risk","severe_depression"]',
  'threshold: PHQ-9 item 9 ≥ 1, total ≥ 20, both in the thresholds\' order');
  tap(M.evaluate(phq, [...entry(24000, 2000, 7), pt('phq9_total', 11, 8, 5000), pt('phq9_item9', 11, 8, 0)], 8)
    .length === 0, 'threshold: an older entry that crossed does not raise again');
  const dup = [T('potassium', 'above', 5.5, null, 'potassium'), T('potassium', 'below', 3.5, null, 'potassium')];
  tap(M.evaluate(dup, [pt('potassium', 1, 3, 6000)], 3).length === 1, 'threshold: a kind raised once');
  tap(T('weight', 'rise', 2, null, 'x') === null && T('weight', 'rise', 2, 0, 'x') === null &&
    T('height', 'above', 2, null, 'x') === null && T('weight', 'over', 2, null, 'x') === null &&
    T('weight', 'above', '2', null, 'x') === null && T('weight', 'above', 2, null, '') === null &&
    T('weight', 'above', 2, null, long(24, 'k')) === null,
  'threshold: malformed ones are left out (rise without days, unknown measure or rule, amount not a number)');
  // the series from thread messages: other cases, other types and broken entries ignored
  const w1 = M.encodeMeasurement(M.parseMeasurement('weight', ['80.35'], NOW - 3).m, 'ab');
  const w2 = M.encodeMeasurement(M.parseMeasurement('weight', ['82.35'], NOW).m, 'ab');
  const other = M.encodeMeasurement(M.parseMeasurement('weight', ['70'], NOW - 1).m, 'cd');
  const s = M.seriesOf([{ seq: 4, content: w1 }, { seq: 5, content: { type: 'text', body: '80' } },
    { seq: 6, content: other }, { seq: 7, content: { ...w2, values: { weight: 900 } } }, { seq: 8, content: w2 }], 'ab');
  tap(s.entries.length === 2 && JSON.stringify(M.evaluate([t], s.pts, 8)) === '["weight_gain"]',
    'threshold: the series of the case\'s own valid entries; +2.0 kg in 3 days raises weight_gain');
}

console.log(`1..${n}`);
console.log(`# ${n - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
