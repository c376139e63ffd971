// test_indicators.mjs — the pure functions of web/src/core/indicators.js
// (semester arithmetic, numbers as the CLI's printf prints them, the French
// figures, a target met or not in words, the trend, the CSV in its two
// forms: quoting, decimal comma, byte order mark), run by node on the
// source file itself (no DOM, no crypto). Every expected value is written
// by hand here from docs/PROTOCOL.md, client/cli/cmd_report.c and csv.c,
// never computed by the code under test; the byte-for-byte comparison with
// the real CLI is tests/integration/test_web_indicators.py. TAP on stdout.
//   node tests/web/test_indicators.mjs [SOURCE_ROOT]
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const root = process.argv[2] || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const checks = [];
const check = (ok, name, detail = '') => checks.push({ ok: !!ok, name, detail });
const eq = (got, want, name) => check(JSON.stringify(got) === JSON.stringify(want), name,
  `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);

const PLAN = 31;
let x;
try {
  x = await import(pathToFileURL(path.join(root, 'web', 'src', 'core', 'indicators.js')).href);
} catch (e) {
  console.log(`1..${PLAN}`);
  console.log(`not ok 1 - import web/src/core/indicators.js\n# ${String(e && e.stack || e).replace(/\n/g, '\n# ')}`);
  for (let i = 2; i <= PLAN; i++) console.log(`not ok ${i} - not reached`);
  process.exit(1);
}

// ---- semesters (PROTOCOL.md report: S1 1 January–30 June, S2 1 July–31 December) ----
eq(x.semesterOf(new Date(2026, 11, 7)), '2026-S2', '7 December 2026 is in 2026-S2');
eq([x.semesterOf(new Date(2026, 5, 30, 23, 59)), x.semesterOf(new Date(2026, 6, 1, 0, 0))], ['2026-S1', '2026-S2'],
  '30 June is the last day of S1, 1 July the first of S2');
eq(x.semesterOf(new Date(2027, 0, 1)), '2027-S1', '1 January 2027 is in 2027-S1');
eq([x.previousSemester('2026-S2'), x.previousSemester('2026-S1'), x.previousSemester('2026-S3')],
  ['2026-S1', '2025-S2', null], 'the semester before: S2 → S1 of the year, S1 → S2 of the year before; a bad one → null');
eq(x.semestersBack('2026-S1', 6), ['2026-S1', '2025-S2', '2025-S1', '2024-S2', '2024-S1', '2023-S2'],
  'the six semesters of the selector, newest first');
eq(x.semestersBack('2026-S2', 4), ['2026-S2', '2026-S1', '2025-S2', '2025-S1'], 'a trend: the chosen one and the three before');
eq([x.parseSemester('2026-S2'), x.parseSemester('2026-S0'), x.parseSemester('26-S1'), x.parseSemester(null)],
  [{ year: 2026, half: 2 }, null, null, null], 'parseSemester: YYYY-S1|S2 only');
eq([x.semesterLabel('2026-S1'), x.semesterLabel('2025-S2'), x.semesterShort('2025-S2')],
  ['1er semestre 2026', '2e semestre 2025', 'S2 2025'], 'semester labels in French');

// ---- numbers: C's "%.1f" and "%lld" (cmd_report.c number()) ----
eq([x.fixed1(33.33333), x.fixed1(66.66666), x.fixed1(50), x.fixed1(0), x.fixed1(100)],
  ['33.3', '66.7', '50.0', '0.0', '100.0'], '%.1f: nearest, one decimal always');
eq([x.fixed1(6.25), x.fixed1(6.75), x.fixed1(0.25), x.fixed1(12.5), x.fixed1(2.05)],
  ['6.2', '6.8', '0.2', '12.5', '2.0'],
  '%.1f on exact ties rounds half to even (6.25 → 6.2), where toFixed gives 6.3; 2.05 is below the tie as a double');
eq([x.cliNumber(3, false), x.cliNumber(3, true), x.cliNumber(null, true), x.cliNumber(undefined, false)],
  ['3', '3.0', '', ''], 'a count is "%lld", a ratio or median "%.1f" (JSON 3.0 arrives as 3), null is an empty cell');
eq([x.hasDecimals({ numerator: 1, denominator: 3, value: 33.3 }), x.hasDecimals({ n: 2, value: 4 }), x.hasDecimals({ value: 4 })],
  [true, true, false], 'ratios and medians carry decimals, counts do not');

// ---- figures in French ----
eq(x.valueText({ numerator: 1, denominator: 3, value: 100 / 3, not_yet_due: 0 }, '%'), '33,3\u00a0%', 'a ratio: 33,3 %');
eq(x.valueText({ n: 4, value: 2.5 }, 'j'), '2,5\u00a0j', 'a median: 2,5 j');
eq([x.valueText({ value: 4 }, ''), x.valueText({ numerator: 0, denominator: 0, value: null }, '%')], ['4', '—'],
  'a count without unit; nothing to count is a dash');
eq([x.basisText({ numerator: 1, denominator: 3 }), x.basisText({ n: 4, value: 2 }), x.basisText({ value: 4 })],
  ['1/3', 'médiane sur 4 cas', ''], 'the basis: numerator/denominator, or n');
eq([x.notYetDueText({ not_yet_due: 0 }), x.notYetDueText({ not_yet_due: 1 }), x.notYetDueText({ not_yet_due: 3 })],
  ['', '1 pas encore due', '3 pas encore dues'], 'steps not yet due');

// ---- targets ----
eq([x.metText({ met: true }), x.metText({ met: false }), x.metText({ met: null }), x.metText(undefined)],
  ['atteint', 'non atteint', 'pas de donnée', ''], 'a target met, not met, without data, or none, in words');
eq([x.metState({ met: true }), x.metState({ met: false }), x.metState({ met: null }), x.metState(null)],
  ['met', 'not_met', 'no_data', 'none'], 'the same as a state');
eq([x.targetText({ value: 90, direction: 'ge' }, '%'), x.targetText({ value: 2.5, direction: 'le' }, 'j')],
  ['≥ 90,0\u00a0%', '≤ 2,5\u00a0j'], 'a target in French: direction sign, decimal comma, unit');
eq([x.parseTarget('90'), x.parseTarget(' 12,5 '), x.parseTarget('0')], [{ value: 90 }, { value: 12.5 }, { value: 0 }],
  'a typed target: 90, 12,5 (decimal comma), 0');
check(['', '-3', 'abc', '1e3', '90 %'].every((s) => /nombre positif/.test(x.parseTarget(s).error || '')),
  'a typed target that is not a number ≥ 0 is refused in French', JSON.stringify(x.parseTarget('-3')));
check(/trop grand/.test(x.parseTarget('2000000000').error || ''), 'a target above 1e9 is refused');

// ---- the trend ----
const rep = (v, by, target) => ({ indicators: [{ id: '2', label: 'L', unit: '%', numerator: 1, denominator: 2, value: v,
  not_yet_due: 0, by_pathway: by, ...(target ? { target } : {}) }] });
const reports = {
  '2026-S2': rep(50, { hospital_discharge: { value: 50 } }, { value: 90, direction: 'ge', met: false }),
  '2026-S1': rep(null, { heart_failure: { value: 0 } }),
  '2025-S2': rep(25, {}),
};
const tr = x.trend('2', ['2026-S2', '2026-S1', '2025-S2', '2025-S1'], reports);
eq(tr.points.map((p) => [p.semester, p.value]), [['2025-S1', null], ['2025-S2', 25], ['2026-S1', null], ['2026-S2', 50]],
  'trend: oldest first, a missing report or a null value is null');
eq([tr.codes, tr.points[3].by, tr.points[2].by], [['heart_failure', 'hospital_discharge'],
  { heart_failure: null, hospital_discharge: 50 }, { heart_failure: 0, hospital_discharge: null }],
'trend: every pathway of any semester is a series, null where it has no figure');

// ---- CSV (csv.c, cmd_report.c print_csv) ----
const report = { indicators: [
  { id: '3a', label: 'Consultation du médecin traitant à J7', numerator: 1, denominator: 16, value: 6.25, unit: '%',
    not_yet_due: 2, by_pathway: { heart_failure: { numerator: 1, denominator: 16, value: 6.25, not_yet_due: 2 } },
    target: { value: 90, direction: 'ge', met: false } },
  { id: '1c', label: 'Délai "médian"; test', n: 3, value: 26, unit: 'h', by_pathway: {},
    target: { value: 48, direction: 'le', met: true } },
  { id: '8a', label: 'Cas ouverts par parcours', value: 4, by_pathway: { heart_failure: { value: 4 } } },
  { id: '9a', label: 'Séances', value: 0, target: { value: 2, direction: 'ge', met: null } },
] };
const fr = x.reportCsv(report, true);
eq(Array.from(new TextEncoder().encode(fr).slice(0, 3)), [0xef, 0xbb, 0xbf], 'French CSV: starts with the UTF-8 BOM EF BB BF');
eq(fr.slice(1).split('\n')[0], 'id;label;numerator;denominator;value;unit;n;not_yet_due;target;met',
  'French CSV: the CLI\'s header, with ;');
eq(fr.slice(1).split('\n').slice(1), [
  '3a;Consultation du médecin traitant à J7;1;16;6,2;%;;2;>= 90,0;not met',
  '3a:heart_failure;Consultation du médecin traitant à J7 — heart_failure;1;16;6,2;%;;2;;',
  '1c;"Délai ""médian""; test";;;26,0;h;3;;<= 48,0;met',
  '8a;Cas ouverts par parcours;;;4;;;;;',
  '8a:heart_failure;Cas ouverts par parcours — heart_failure;;;4;;;;;',
  '9a;Séances;;;0;;;;>= 2,0;no data',
  '',
], 'French CSV rows: decimal comma in numbers, ; quoted, "" for a quote, a row per pathway, ends with a newline');
const std = x.reportCsv(report, false);
eq(std.split('\n').slice(0, 4), ['id,label,numerator,denominator,value,unit,n,not_yet_due,target,met',
  '3a,Consultation du médecin traitant à J7,1,16,6.2,%,,2,>= 90.0,not met',
  '3a:heart_failure,Consultation du médecin traitant à J7 — heart_failure,1,16,6.2,%,,2,,',
  '1c,"Délai ""médian""; test",,,26.0,h,3,,<= 48.0,met'], 'standard CSV: no BOM, commas, decimal point');
eq([x.csvCell('a,b', { french: true }), x.csvCell('a,b'), x.csvCell('x\ny', { french: true }), x.csvCell('1.5', { french: true }),
  x.csvCell('1.5', { french: true, number: true }), x.csvCell('v1.2', { french: true, number: true })],
['a,b', '"a,b"', '"x\ny"', '1.5', '1,5', 'v1,2'],
'a cell: quoted for its form\'s separator or a line break; the decimal comma only in number cells, between digits');
eq(x.csvName('2026-S2'), 'indicateurs-2026-S2.csv', 'the file\'s name');

console.log(`1..${PLAN}`);
checks.forEach((c, i) => {
  console.log(`${c.ok ? 'ok' : 'not ok'} ${i + 1} - ${c.name}`);
  if (!c.ok && c.detail) console.log(`# ${c.detail}`);
});
for (let i = checks.length + 1; i <= PLAN; i++) console.log(`not ok ${i} - planned check not made`);
if (checks.length > PLAN) console.log(`not ok ${PLAN + 1} - ${checks.length} checks made, ${PLAN} planned`);
process.exit(checks.every((c) => c.ok) && checks.length === PLAN ? 0 : 1);
