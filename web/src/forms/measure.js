// Structured measurements of a case (docs/PATHWAYS.md, "Measurements and
// alerts"), ported from client/core/measure.c and cmd_measure.c rule for
// rule: what the user typed checked with the CLI's ranges and French
// messages, the encrypted message's content both ways, the template's
// thresholds (op `pathways`) and which alert kinds an entry raises. Values
// are kept in thousandths of their unit (milli), as the CLI does, so that
// thresholds compare exactly (+2.000 kg, never 1.9999…). Pure: no DOM, no
// network.
//
// The message (client/README.md, "measure"):
//   {"type":"measurement","version":1,"case":HEX,"kind":"weight|nyha|bp|
//    potassium|creatinine|phq9","at":"YYYY-MM-DD","values":{MEASURE:NUMBER,…},
//    "items":[9 × 0–3] (phq9 only)}
import { parseDay, formatDay, today } from './discharge.js';

export const MEASURE_TYPE = 'measurement';
export const KINDS = ['weight', 'nyha', 'bp', 'potassium', 'creatinine', 'phq9'];

/** Each kind for the form: its French label, what it takes, and the measures it gives. */
export const KIND_INFO = {
  weight: { label: 'Poids', help: 'poids, de 20 à 350 kg (p. ex. 82.5)', measures: ['weight'] },
  nyha: { label: 'Classe NYHA', help: 'classe NYHA, I à IV (ou 1 à 4)', measures: ['nyha'] },
  bp: { label: 'Pression artérielle et fréquence cardiaque',
    help: 'tension artérielle en mmHg (systolique 50-300, diastolique 20-200 et inférieure à la systolique) et ' +
      'fréquence cardiaque 20-250 /min', measures: ['systolic', 'diastolic', 'heart_rate'] },
  potassium: { label: 'Kaliémie', help: 'kaliémie, de 1 à 10 mmol/L (p. ex. 5.8)', measures: ['potassium'] },
  creatinine: { label: 'Créatininémie', help: 'créatininémie, de 10 à 3000 µmol/L', measures: ['creatinine'] },
  phq9: { label: 'PHQ-9', help: 'les neuf réponses du PHQ-9, chacune de 0 à 3 (le total est calculé)',
    measures: ['phq9_total', 'phq9_item9'] },
};

// measure, its words (French, as the CLI's messages), unit, range in milli (inclusive), whole
const RANGES = [
  ['weight', 'poids', 'kg', 20000, 350000, false],
  ['nyha', 'classe NYHA', '', 1000, 4000, true],
  ['systolic', 'pression systolique', 'mmHg', 50000, 300000, true],
  ['diastolic', 'pression diastolique', 'mmHg', 20000, 200000, true],
  ['heart_rate', 'fréquence cardiaque', '/min', 20000, 250000, true],
  ['potassium', 'kaliémie', 'mmol/L', 1000, 10000, false],
  ['creatinine', 'créatinine', 'µmol/L', 10000, 3000000, false],
  ['phq9_item9', 'item 9 du PHQ-9', '', 0, 3000, true],
  ['phq9_total', 'total du PHQ-9', '', 0, 27000, true],
].map(([measure, words, unit, lo, hi, whole]) => ({ measure, words, unit, lo, hi, whole }));

const rangeOf = (measure) => RANGES.find((r) => r.measure === measure) || null;

/** The unit of a measure ("kg", "mmol/L", …; "" for scores). */
export function unitOf(measure) {
  const r = rangeOf(measure);
  return r ? r.unit : '';
}

/** The words of a measure in French ("poids", "kaliémie"). */
export function wordsOf(measure) {
  const r = rangeOf(measure);
  return r ? r.words : measure;
}

/** A decimal number: at most 9 digits, then at most 3 decimals after '.' or ','; milli or null. */
export function parseDecimal(text) {
  const m = /^([0-9]{1,9})(?:[.,]([0-9]{1,3}))?$/.exec(typeof text === 'string' ? text : '');
  if (!m) return null;
  return Number(m[1]) * 1000 + Number((m[2] || '').padEnd(3, '0'));
}

/** "82.5", "3", "4.25": milli as the shortest decimal text (measure_format). */
export function formatMilli(milli) {
  const whole = Math.trunc(milli / 1000);
  const frac = Math.abs(milli % 1000);
  if (frac === 0) return String(whole);
  const f = String(frac).padStart(3, '0').replace(/0+$/, '');
  return `${milli < 0 && whole === 0 ? '-' : ''}${whole}.${f}`;
}

function inRange(r, milli) {
  return milli >= r.lo && milli <= r.hi && (!r.whole || milli % 1000 === 0);
}

function rangeWhy(r, text) {
  const what = r.whole ? 'un nombre entier' : 'un nombre';
  const decimals = r.whole ? '' : ' (au plus 3 décimales)';
  return `${r.words} « ${text} » : attendu ${what}${decimals} de ${formatMilli(r.lo)} à ${formatMilli(r.hi)}` +
    `${r.unit ? ` ${r.unit}` : ''}`;
}

class Why extends Error {}

function addValue(m, measure, text) {
  const r = rangeOf(measure);
  const milli = parseDecimal(text);
  if (milli === null || !inRange(r, milli)) throw new Why(rangeWhy(r, text));
  m.values.push({ name: measure, milli });
}

function countIs(kind, n, want, what) {
  if (n !== want) throw new Why(`${kind} prend ${what} (${n} ${n > 1 ? 'valeurs données' : 'valeur donnée'})`);
}

/**
 * The CLI's measure_parse: kind and its words (args, as typed after `liaison
 * measure CASE KIND`) on day (a day number). Returns {ok: true, m} or {ok:
 * false, why} with the CLI's French sentence. m = {kind, day, values:
 * [{name, milli}], items (phq9)}.
 */
export function parseMeasurement(kind, args, day) {
  const m = { kind, day, values: [], items: null };
  try {
    if (kind === 'weight' || kind === 'potassium' || kind === 'creatinine') {
      countIs(kind, args.length, 1, 'une valeur');
      addValue(m, kind, args[0]);
    } else if (kind === 'nyha') {
      countIs(kind, args.length, 1, 'une classe');
      const i = ['I', 'II', 'III', 'IV'].indexOf(args[0]);
      const j = ['1', '2', '3', '4'].indexOf(args[0]);
      if (i < 0 && j < 0) throw new Why(`classe NYHA « ${args[0]} » : attendu I, II, III ou IV (ou 1 à 4)`);
      m.values.push({ name: 'nyha', milli: (Math.max(i, j) + 1) * 1000 });
    } else if (kind === 'bp') {
      countIs(kind, args.length, 2, 'SYS/DIA et une fréquence cardiaque (bp 130/80 72)');
      const slash = args[0].indexOf('/');
      if (slash < 0 || new TextEncoder().encode(args[0]).length >= 16) {
        throw new Why(`pression artérielle « ${args[0]} » : attendu SYSTOLIQUE/DIASTOLIQUE en mmHg, par ex. 130/80`);
      }
      addValue(m, 'systolic', args[0].slice(0, slash));
      addValue(m, 'diastolic', args[0].slice(slash + 1));
      addValue(m, 'heart_rate', args[1]);
      if (m.values[1].milli >= m.values[0].milli) {
        throw new Why(`pression artérielle « ${args[0]} » : la diastolique doit être inférieure à la systolique`);
      }
    } else if (kind === 'phq9') {
      countIs(kind, args.length, 9, 'les neuf réponses, chacune de 0 à 3');
      m.items = args.map((a, i) => {
        if (!/^[0-3]$/.test(a)) throw new Why(`réponse ${i + 1} du PHQ-9 « ${a} » : attendu 0, 1, 2 ou 3`);
        return Number(a);
      });
      const total = m.items.reduce((s, x) => s + x, 0);
      m.values.push({ name: 'phq9_total', milli: total * 1000 }, { name: 'phq9_item9', milli: m.items[8] * 1000 });
    } else {
      throw new Why(`mesure inconnue « ${kind} » ; attendu weight, nyha, bp, potassium, creatinine ou phq9`);
    }
  } catch (e) {
    if (e instanceof Why) return { ok: false, why: e.message };
    throw e;
  }
  return { ok: true, m };
}

/**
 * The day of the measurement as `--at` gives it (cmd_measure_check): null
 * or '' = today; {ok, day} or {ok: false, why} (the CLI's French message).
 */
export function parseAt(at, now = today()) {
  if (at === null || at === undefined || at === '') return { ok: true, day: now };
  const day = parseDay(at);
  if (day === null) return { ok: false, why: `--at ${at} : une date AAAA-MM-JJ est attendue` };
  if (day > now) {
    return { ok: false, why: `--at ${at} : cette date est dans le futur ; donnez le jour de la mesure` };
  }
  return { ok: true, day };
}

// an integer when whole (82), else the decimal (82.35), as the CLI writes it
const jsonNumber = (milli) => milli / 1000;

/** The message content of a measurement (measure_encode). */
export function encodeMeasurement(m, caseHex) {
  const values = {};
  for (const v of m.values) values[v.name] = jsonNumber(v.milli);
  const out = { type: MEASURE_TYPE, version: 1, case: caseHex, kind: m.kind, at: formatDay(m.day), values };
  if (m.kind === 'phq9') out.items = m.items.slice();
  return out;
}

// the value of measure in values, as the text parseMeasurement would read (value_text)
function valueText(values, measure) {
  const v = values[measure];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1e7) return null;
  const milli = Math.round(v * 1000);
  const diff = v * 1000 - milli;
  if (diff > 1e-6 || diff < -1e-6) return null; // more than 3 decimals
  return formatMilli(milli);
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A message content back, every check of parseMeasurement made again; null when not a valid measurement. */
export function decodeMeasurement(content) {
  if (!isObject(content) || content.type !== MEASURE_TYPE || content.version !== 1) return null;
  const { kind, at, values } = content;
  const day = parseDay(at);
  if (typeof kind !== 'string' || day === null || !isObject(values)) return null;
  let args;
  let want;
  if (['weight', 'potassium', 'creatinine', 'nyha'].includes(kind)) {
    const t = valueText(values, kind);
    if (t === null) return null;
    args = [t];
    want = 1;
  } else if (kind === 'bp') {
    const t = ['systolic', 'diastolic', 'heart_rate'].map((x) => valueText(values, x));
    if (t.includes(null)) return null;
    args = [`${t[0]}/${t[1]}`, t[2]];
    want = 3;
  } else if (kind === 'phq9') {
    const items = content.items;
    if (!Array.isArray(items) || items.length !== 9 ||
        !items.every((a) => Number.isInteger(a) && a >= 0 && a <= 3)) return null;
    args = items.map(String);
    want = 2;
  } else {
    return null;
  }
  if (Object.keys(values).length !== want) return null;
  const r = parseMeasurement(kind, args, day);
  if (!r.ok) return null;
  for (const v of r.m.values) if (valueText(values, v.name) !== formatMilli(v.milli)) return null;
  return r.m;
}

/** "poids 82.35 kg", "systolic 130 mmHg, …" as `liaison read` shows an entry (codes, values, units). */
export function entryWords(m) {
  return m.values.map((v) => `${v.name} ${formatMilli(v.milli)}${unitOf(v.name) ? ` ${unitOf(v.name)}` : ''}`)
    .join(', ');
}

/** The same in French words for people: "poids 82.35 kg, …". */
export function entryFrench(m) {
  return m.values.map((v) => `${wordsOf(v.name)} ${formatMilli(v.milli).replace('.', ',')}` +
    `${unitOf(v.name) ? ` ${unitOf(v.name)}` : ''}`).join(', ');
}

// ---- thresholds ---------------------------------------------------------------

export const RULES = ['above', 'at_least', 'below', 'rise'];

/** A THRESHOLD of op `pathways` ({measure, rule, amount, days, alert_kind}), or null when malformed/unknown. */
export function thresholdFromJson(obj) {
  if (!isObject(obj)) return null;
  const { measure, rule, alert_kind: kind, amount, days } = obj;
  if (typeof measure !== 'string' || !rangeOf(measure) || typeof rule !== 'string' || typeof kind !== 'string' ||
      kind === '' || new TextEncoder().encode(kind).length >= 24 || typeof amount !== 'number' ||
      !Number.isFinite(amount) || !RULES.includes(rule)) return null;
  const t = { measure, rule, amountMilli: Math.round(amount * 1000), days: 0, kind };
  if (rule === 'rise') {
    if (!Number.isInteger(days) || days < 1) return null;
    t.days = days;
  }
  // Math.round rounds .5 up; the CLI rounds half away from zero: the same for amounts ≥ 0
  if (amount < 0) t.amountMilli = -Math.round(-amount * 1000);
  return t;
}

/** The thresholds of a template of the `pathways` reply (each malformed one left out, as the CLI). */
export function thresholdsOf(template) {
  return ((template && template.thresholds) || []).map(thresholdFromJson).filter(Boolean).slice(0, 64);
}

/** The template of a case (its pathway and template_version) in the `pathways` reply, or null. */
export function caseTemplate(pathwaysReply, kase) {
  return ((pathwaysReply && pathwaysReply.pathways) || []).find((t) => t && kase &&
    t.pathway === kase.pathway && t.version === kase.template_version) || null;
}

/** The French label of an alert kind in a template ("Prise de poids…"), else the kind. */
export function kindLabel(template, kind) {
  const a = ((template && template.alerts) || []).find((x) => x && x.kind === kind);
  return a && typeof a.label === 'string' ? a.label : kind;
}

/** Whom an alert kind notifies ("gp|cardiologist"), else "?". */
export function kindRoles(template, kind) {
  const a = ((template && template.alerts) || []).find((x) => x && x.kind === kind);
  return a && typeof a.roles === 'string' ? a.roles : '?';
}

/** The points of an entry posted as message seq: [{measure, day, seq, milli}]. */
export function pointsOf(m, seq) {
  return m.values.map((v) => ({ measure: v.name, day: m.day, seq, milli: v.milli }));
}

const earlier = (a, b) => a.day < b.day || (a.day === b.day && a.seq < b.seq);

/** Does point p (one of pts) cross threshold t (measure_crosses)? */
export function crosses(t, pts, p) {
  if (t.measure !== p.measure) return false;
  switch (t.rule) {
    case 'above': return p.milli > t.amountMilli;
    case 'at_least': return p.milli >= t.amountMilli;
    case 'below': return p.milli < t.amountMilli;
    case 'rise':
      return pts.some((e) => e.measure === p.measure && earlier(e, p) && p.day - e.day <= t.days &&
        p.milli - e.milli >= t.amountMilli);
    default: return false;
  }
}

/**
 * The alert kinds the entry `seq` raises (measure_evaluate): for each
 * threshold in order, when a point of that entry crosses it; each kind once,
 * at most max (the CLI's 8).
 */
export function evaluate(thresholds, pts, seq, max = 8) {
  const kinds = [];
  for (const t of thresholds) {
    if (!pts.some((p) => p.seq === seq && crosses(t, pts, p))) continue;
    if (!kinds.includes(t.kind) && kinds.length < max) kinds.push(t.kind);
  }
  return kinds;
}

/**
 * The series of a case from its decrypted thread: messages [{seq, content}]
 * whose content is a valid measurement of this case (others ignored, as
 * measure_series_load), as points; plus the entries.
 */
export function seriesOf(messages, caseHex) {
  const entries = [];
  const seen = new Set();
  for (const msg of messages || []) {
    const c = msg && msg.content;
    if (!isObject(c) || c.type !== MEASURE_TYPE || c.case !== caseHex || seen.has(msg.seq)) continue;
    const m = decodeMeasurement(c);
    if (!m) continue;
    seen.add(msg.seq);
    entries.push({ seq: msg.seq, m });
  }
  const pts = entries.flatMap((e) => pointsOf(e.m, e.seq));
  pts.sort((a, b) => (a.day !== b.day ? a.day - b.day : a.seq - b.seq));
  return { entries, pts };
}

/**
 * The follow-up alert message for the k-th kind (k ≥ 1) of an entry
 * (cmd_measure.c): one alert per message, so each further kind goes on a
 * short message of its own pointing at the measurement.
 */
export function alertContent({ caseHex, patientRef, template, kind, measurementSeq }) {
  return { type: 'alert', priority: 'high', case: caseHex, patient_ref: patientRef, body: kindLabel(template, kind),
    kind, measurement_seq: measurementSeq };
}

/**
 * What the form gives for a kind, as the CLI's words: weight/potassium/
 * creatinine/nyha: {value}; bp: {systolic, diastolic, rate} → ["130/80", "72"];
 * phq9: {items: [9 texts]}.
 */
export function argsOf(kind, fields) {
  if (kind === 'bp') return [`${fields.systolic ?? ''}/${fields.diastolic ?? ''}`, String(fields.rate ?? '')];
  if (kind === 'phq9') return (fields.items || []).map((x) => String(x ?? ''));
  return [String(fields.value ?? '')];
}
