// The CPTS indicators in the browser (docs/PROTOCOL.md "Care pathways", op
// `report`; docs/WEB.md "Indicateurs"): the requests of the view
// "Indicateurs" and the pure shaping of what the server returns — semesters,
// figures in French, a target met or not in words, the trend over the
// previous semesters, and the report as CSV — so that it is unit-tested
// without a browser (tests/web/test_indicators.mjs imports this file with
// node: no DOM, no crypto).
//
// The CSV is the CLI's (client/cli/cmd_report.c collect_rows and print_csv,
// client/cli/csv.c): the same header, one row per indicator then one per
// pathway ("3a:heart_failure"), numbers printed as C's "%lld" or "%.1f",
// and in the French form the UTF-8 byte order mark, ';' between cells and
// a decimal comma. tests/integration/test_web_indicators.py checks the
// browser's file against `liaison report --semester S --csv-fr` byte for
// byte: a change to one is a change to the other.
import { idemKey } from '../net/client.js';

// ---- semesters ---------------------------------------------------------------------

const SEMESTER = /^(\d{4})-S([12])$/;

/** {year, half} of "2026-S2", or null. */
export function parseSemester(text) {
  const m = SEMESTER.exec(typeof text === 'string' ? text : '');
  return m ? { year: Number(m[1]), half: Number(m[2]) } : null;
}

function semesterText(year, half) {
  return `${String(year).padStart(4, '0')}-S${half}`;
}

/** The semester of a date as this browser's calendar shows it (1 January–30 June: S1). */
export function semesterOf(date = new Date()) {
  return semesterText(date.getFullYear(), date.getMonth() < 6 ? 1 : 2);
}

/** The semester before s ("2026-S1" → "2025-S2"). */
export function previousSemester(s) {
  const p = parseSemester(s);
  if (!p) return null;
  return p.half === 2 ? semesterText(p.year, 1) : semesterText(p.year - 1, 2);
}

/** s and the n − 1 semesters before it, newest first. */
export function semestersBack(s, n) {
  const out = [];
  for (let x = s; x && out.length < n; x = previousSemester(x)) out.push(x);
  return out;
}

/** "1er semestre 2026" / "2e semestre 2026" */
export function semesterLabel(s) {
  const p = parseSemester(s);
  if (!p) return s;
  return `${p.half === 1 ? '1er' : '2e'} semestre ${p.year}`;
}

/** "S1 2026": short, for a chart's axis */
export function semesterShort(s) {
  const p = parseSemester(s);
  return p ? `S${p.half} ${p.year}` : s;
}

// ---- numbers as the CLI prints them ------------------------------------------------

/**
 * x with one decimal as C's printf("%.1f") gives it: the nearest, and on
 * an exact tie (6.25) the even digit (6.2), where toFixed would go up.
 */
export function fixed1(x) {
  const s = x.toFixed(1);
  const exact = Math.abs(x).toFixed(60); // every double in the report's range is exact at 60 digits
  const [, frac = ''] = exact.split('.');
  if (frac[1] !== '5' || !/^0*$/.test(frac.slice(2))) return s;
  // a tie: round half to even on the first decimal
  const down = (x < 0 ? '-' : '') + exact.slice(0, exact.indexOf('.') + 2);
  const last = Number(down.charAt(down.length - 1));
  return last % 2 === 0 ? (down === '-0.0' ? '-0.0' : down) : s;
}

/** Does this figure (a row or a by_pathway entry) carry a value in decimals (a ratio or a median)? */
export function hasDecimals(fig) {
  return !!fig && ('numerator' in fig || 'n' in fig);
}

/** A field as cmd_report.c number() prints it: "%lld", "%.1f", or '' when absent or null. */
export function cliNumber(v, decimals) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '';
  if (decimals) return fixed1(v);
  return Number.isInteger(v) ? String(v) : fixed1(v);
}

/** "33,3", "4": a number in French (decimal comma). */
export function frenchNumber(v, decimals) {
  const s = cliNumber(v, decimals);
  return s.replace('.', ',');
}

/** The value with its unit in French: "33,3 %", "2,5 j", "4", or "—" when there is none. */
export function valueText(fig, unit) {
  if (!fig || typeof fig.value !== 'number') return '—';
  const n = frenchNumber(fig.value, hasDecimals(fig));
  return unit ? `${n}\u00a0${unit}` : n;
}

/** What a row is: 'ratio' (numerator/denominator), 'median' (n) or 'count'. */
export function kindOf(fig) {
  if (fig && 'numerator' in fig) return 'ratio';
  if (fig && 'n' in fig) return 'median';
  return 'count';
}

/** "1/3", "sur 4 cas", or '' for a count. */
export function basisText(fig) {
  const k = kindOf(fig);
  if (k === 'ratio') return `${fig.numerator}/${fig.denominator}`;
  if (k === 'median') return `médiane sur ${fig.n} cas`;
  return '';
}

/** "2 pas encore dues" (the steps whose day has not ended), or '' when none. */
export function notYetDueText(fig) {
  const n = fig && typeof fig.not_yet_due === 'number' ? fig.not_yet_due : 0;
  if (!n) return '';
  return `${n} pas encore due${n > 1 ? 's' : ''}`;
}

// ---- targets -------------------------------------------------------------------------

/** "≥ 90,0 %", "≤ 2,0 j" */
export function targetText(target, unit) {
  if (!target) return 'pas d’objectif';
  const sign = target.direction === 'le' ? '≤' : '≥';
  const n = frenchNumber(target.value, true);
  return `${sign} ${n}${unit ? `\u00a0${unit}` : ''}`;
}

/** The target's verdict in words: « atteint », « non atteint », « pas de donnée » (met null), or '' (no target). */
export function metText(target) {
  if (!target) return '';
  if (target.met === true) return 'atteint';
  if (target.met === false) return 'non atteint';
  return 'pas de donnée';
}

/** 'met', 'not_met', 'no_data' or 'none': a class name and a test hook. */
export function metState(target) {
  if (!target) return 'none';
  if (target.met === true) return 'met';
  if (target.met === false) return 'not_met';
  return 'no_data';
}

/**
 * A target typed in the view, checked as the server and the CLI check it
 * (PROTOCOL.md target_set: a number ≥ 0, at most 1e9; a comma as the
 * decimal point is accepted). Returns {value} or {error} (French).
 */
export function parseTarget(text) {
  const s = String(text ?? '').trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(s)) {
    return { error: 'L’objectif doit être un nombre positif ou nul, par exemple 90 ou 12,5 (en % pour un ratio).' };
  }
  const v = Number(s);
  if (!(v >= 0 && v <= 1e9)) return { error: 'L’objectif est trop grand : au plus 1 000 000 000.' };
  return { value: v };
}

// ---- the report, shaped for the view ---------------------------------------------------

/** The pathway codes of a report's rows (by_pathway keys), in the order they first appear. */
export function pathwayCodes(report) {
  const seen = [];
  for (const row of (report && report.indicators) || []) {
    for (const code of Object.keys(row.by_pathway || {})) if (!seen.includes(code)) seen.push(code);
  }
  return seen;
}

/**
 * The trend of one indicator: for each semester (oldest first) of
 * reports ({semester: reply}), its value overall and per pathway, and the
 * target of the semester shown. Missing reports give null values.
 */
export function trend(id, semesters, reports) {
  const ordered = [...semesters].reverse();
  const codes = [];
  for (const s of ordered) {
    const row = findRow(reports[s], id);
    for (const c of Object.keys((row && row.by_pathway) || {})) if (!codes.includes(c)) codes.push(c);
  }
  const points = ordered.map((s) => {
    const row = findRow(reports[s], id);
    const by = {};
    for (const c of codes) {
      const f = row && row.by_pathway && row.by_pathway[c];
      by[c] = f && typeof f.value === 'number' ? f.value : null;
    }
    return { semester: s, value: row && typeof row.value === 'number' ? row.value : null, by,
      target: row && row.target ? row.target.value : null };
  });
  return { codes, points };
}

/** The row of indicator id in a report reply, or null. */
export function findRow(report, id) {
  return ((report && report.indicators) || []).find((r) => r.id === id) || null;
}

// ---- CSV (the CLI's, client/cli/csv.c) --------------------------------------------------

export const CSV_HEADER = ['id', 'label', 'numerator', 'denominator', 'value', 'unit', 'n',
  'not_yet_due', 'target', 'met'];
const NUMBER_COLUMNS = new Set([2, 3, 4, 6, 7, 8]);
const REPORT_ROWS_MAX = 256; // cmd_report.c: rows past it are not printed

function figureCells(fig) {
  const d = hasDecimals(fig);
  return [cliNumber(fig.numerator, false), cliNumber(fig.denominator, false),
    cliNumber(fig.value, d), cliNumber(fig.n, false), cliNumber(fig.not_yet_due, false)];
}

/** The report's rows as cmd_report.c collect_rows makes them: 10 text cells each. */
export function csvRows(report) {
  const rows = [];
  for (const ind of (report && report.indicators) || []) {
    if (rows.length === REPORT_ROWS_MAX) break;
    const [num, den, value, n, nyd] = figureCells(ind);
    let target = '';
    let met = '';
    if (ind.target && typeof ind.target === 'object') {
      target = `${ind.target.direction === 'le' ? '<=' : '>='} ${cliNumber(ind.target.value, true)}`;
      met = ind.target.met === true ? 'met' : ind.target.met === false ? 'not met' : 'no data';
    }
    const id = ind.id || '';
    const label = ind.label || '';
    const unit = ind.unit || '';
    rows.push([id, label, num, den, value, unit, n, nyd, target, met]);
    for (const [code, fig] of Object.entries(ind.by_pathway || {})) {
      if (rows.length === REPORT_ROWS_MAX) break;
      const cells = figureCells(fig || {});
      rows.push([`${id}:${code}`, `${label} — ${code}`, cells[0], cells[1], cells[2], unit, cells[3],
        cells[4], '', '']);
    }
  }
  return rows;
}

/** One CSV cell (csv.c write_cell): quoted when it holds the separator, a quote or a line break. */
export function csvCell(text, { french = false, number = false } = {}) {
  const sep = french ? ';' : ',';
  let s = String(text ?? '');
  if (number && french) s = s.replace(/(?<=\d)\.(?=\d)/g, ',');
  const quote = s.includes(sep) || /["\r\n]/.test(s);
  s = s.replace(/"/g, '""');
  return quote ? `"${s}"` : s;
}

/**
 * The report as `liaison report --csv` (french false) or `--csv-fr`
 * (french true) prints it, as a string; the French form starts with the
 * byte order mark U+FEFF (EF BB BF once encoded in UTF-8).
 */
export function reportCsv(report, french = true) {
  const sep = french ? ';' : ',';
  const lines = [CSV_HEADER.map((h) => csvCell(h, { french })).join(sep)];
  for (const row of csvRows(report)) {
    lines.push(row.map((c, i) => csvCell(c, { french, number: NUMBER_COLUMNS.has(i) })).join(sep));
  }
  return `${french ? '\ufeff' : ''}${lines.join('\n')}\n`;
}

/** The CSV file's name: "indicateurs-2026-S2.csv" */
export function csvName(semester) {
  return `indicateurs-${semester}.csv`;
}

// ---- requests ---------------------------------------------------------------------------

export const report = (conn, semester) => conn.request('report', { semester });
export const targets = (conn) => conn.request('targets');
/** Sets (value a number) or removes (value null) the target of indicator id. */
export const targetSet = (conn, indicator, value, direction = null) => {
  const fields = { idem: idemKey(), indicator, value };
  if (direction && value !== null) fields.direction = direction;
  return conn.request('target_set', fields);
};
