// The care messages of a case thread shown in French (the discharge notice,
// a measurement, an alert), as `liaison read` shows them (notice_view.c,
// thread_view.c), and the two thread operations the care forms need:
// sendCare (one encrypted message into the case thread, its seq) and
// caseMessages (the thread's decrypted messages, for the measurement series).
import { h } from './dom.js';
import * as D from '../forms/discharge.js';
import * as M from '../forms/measure.js';
import { sendContent, messageAt, threadModel } from '../core/index.js';

/** Sends content (an object) as one encrypted message of channel; resolves with its seq. */
export async function sendCare(ctx, channel, content) {
  const sent = await sendContent(ctx, channel, content);
  return sent.seq;
}

/**
 * The readable messages of channel, fetched first as `liaison measure`
 * syncs the case thread (no receipt is sent): [{seq, content}].
 */
export async function caseMessages(ctx, channel) {
  await messageAt(ctx, channel, Number.MAX_SAFE_INTEGER); // fetches what this browser does not hold yet
  const model = await threadModel(ctx, channel);
  const out = [];
  for (const m of model.msgs) {
    if (m.status !== 'ok' || typeof m.plain !== 'string') continue;
    try {
      out.push({ seq: m.seq, content: JSON.parse(m.plain) });
    } catch {
      // not JSON: not a measurement
    }
  }
  return out;
}

const str = (o, k) => (o && typeof o[k] === 'string' ? o[k] : null);
const dash = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function doctor(d) {
  if (!isObject(d)) return '—';
  return `${dash(str(d, 'name'))}${str(d, 'department') ? `, ${d.department}` : ''}` +
    `${str(d, 'phone') ? ` (${d.phone})` : ''}`;
}

function textList(list) {
  return Array.isArray(list) && list.length ? list.map((x) => String(x)).join(' ; ') : 'aucun';
}

function rows(pairs) {
  return h('dl', { class: 'care-facts' }, pairs.filter(Boolean).flatMap(([k, v, field]) => [
    h('dt', { text: k }), h('dd', { text: dash(v), dataset: field ? { field } : undefined })]));
}

function bullets(title, items, none = 'aucun') {
  return [h('p', { class: 'care-sub', text: `${title}${items.length ? '' : ` ${none}`}` }),
    items.length ? h('ul', {}, items.map((t) => h('li', { text: t }))) : null];
}

/** A discharge notice's content as French text blocks (notice_print in French). */
export function renderNotice(content) {
  const n = isObject(content) ? content.notice : null;
  const head = h('p', { class: 'care-title', text: `AVIS DE SORTIE (lettre de liaison)` +
    `${str(content, 'patient_ref') ? ` — dossier ${content.patient_ref}, ${dash(str(content, 'pathway'))}` : ''}` });
  if (!isObject(n)) return h('div', { class: 'care notice-msg' }, head, h('p', { text: '[l’avis n’a pas de contenu]' }));
  const p = isObject(n.patient) ? n.patient : {};
  const W = D.MODE_WORDS;
  const mode = (table, code) => (code ? table[code] || code : null);
  const fu = isObject(n.follow_up) ? n.follow_up : {};
  const st = isObject(n.stay_summary) ? n.stay_summary : {};
  const arr = (v) => (Array.isArray(v) ? v.filter(isObject) : []);
  const treatments = arr(n.discharge_treatments).map((t) => `${dash(str(t, 'drug'))} ${dash(str(t, 'dose'))}, ` +
    `${dash(str(t, 'frequency'))}${str(t, 'route') ? `, ${t.route}` : ''} ; durée : ${dash(str(t, 'duration'))}` +
    `${str(t, 'end_date') ? ` (jusqu’au ${t.end_date})` : ''}${str(t, 'change') ? ` [${mode(W.change, t.change)}]` : ''}` +
    `${str(t, 'comment') ? ` — ${t.comment}` : ''}`);
  const stopped = arr(n.stopped_treatments).map((t) => `${dash(str(t, 'drug'))}` +
    `${str(t, 'date') ? ` (arrêté le ${t.date})` : ''} : ${dash(str(t, 'reason'))}` +
    `${str(t, 'replaced_by') ? ` ; remplacé par ${t.replaced_by}` : ''}`);
  const awaited = arr(n.results_awaited).map((r) => `${dash(str(r, 'test'))}` +
    `${str(r, 'expected_by') ? ` (attendu pour le ${r.expected_by})` : ''}${str(r, 'comment') ? ` — ${r.comment}` : ''}`);
  const acts = arr(fu.planned_acts).map((a) => [str(a, 'act'), str(a, 'date'), str(a, 'with')].filter(Boolean).join(', '));
  const letter = isObject(content.letter) ? content.letter : null;
  return h('div', { class: 'care notice-msg', 'data-kind': 'discharge_notice' }, head,
    rows([
      ['Patient', `${D.patientName(n)}, né(e) le ${dash(str(p, 'birth_date'))}, INS ${dash(str(p, 'ins'))}`, 'patient'],
      ['Séjour', `${dash(str(n, 'admission_date'))} → ${dash(str(n, 'discharge_date'))}`, 'stay'],
      str(n, 'admission_mode') && ['Entrée', mode(W.admission, n.admission_mode)],
      (str(n, 'discharge_mode') || str(n, 'discharge_destination')) && ['Sortie vers',
        `${str(n, 'discharge_mode') ? mode(W.discharge, n.discharge_mode) : '—'}` +
        `${str(n, 'discharge_destination') ? ` : ${n.discharge_destination}` : ''}`],
      ['Médecin hospitalier', `${doctor(n.hospital_doctor)}${isObject(n.establishment) ? `, ${dash(str(n.establishment, 'name'))}` : ''}`],
      ['Médecin traitant', str(n.gp, 'name'), 'gp'],
      isObject(n.referring_doctor) && ['Adressé par', str(n.referring_doctor, 'name')],
      ['Motif d’hospitalisation', str(n, 'reason_for_admission'), 'reason'],
      Array.isArray(n.allergies) && ['Allergies', textList(n.allergies)],
      ['Synthèse du séjour', str(st, 'summary'), 'summary'],
      ['Événements indésirables', textList(st.adverse_events)],
      ['Micro-organismes résistants', textList(st.resistant_organisms)],
      ['Produits sanguins', textList(st.blood_products)],
      ['Dispositifs implantés', textList(st.implanted_devices)],
    ]),
    bullets('Traitements de sortie :', treatments),
    bullets('Traitements arrêtés :', stopped),
    bullets('Résultats attendus :', awaited),
    bullets('Prévu :', acts, 'rien'),
    rows([['Recommandations', str(fu, 'recommendations'), 'recommendations'],
      ['Surveillance', str(fu, 'monitoring'), 'monitoring']]),
    letter ? h('p', { text: `Lettre : ${dash(str(letter, 'name'))} (${Number(letter.size) || 0} octets)` }) : null);
}

/** A measurement's content in French words, or why it is not shown (thread_view.c). */
export function renderMeasurement(content) {
  const m = M.decodeMeasurement(content);
  if (!m) {
    return h('div', { class: 'care measure-msg' },
      h('p', { text: '[une mesure mal formée ou hors limites : ni affichée, ni utilisée]' }));
  }
  return h('div', { class: 'care measure-msg', 'data-kind': 'measurement' },
    h('p', { text: `[mesure du ${formatAt(m)}] ${M.entryFrench(m)}` }));
}

function formatAt(m) {
  return D.formatDay(m.day);
}

/** An alert's content: the high-priority banner and its text. */
export function renderAlert(content) {
  const ref = str(content, 'patient_ref') || '?';
  return h('div', { class: 'care alert-msg', role: 'note', 'data-kind': 'alert' },
    h('p', { class: 'care-title error', text: `ALERTE — priorité haute — dossier ${ref}` +
      `${str(content, 'kind') ? ` (${content.kind})` : ''}` }),
    h('p', { class: 'care-body', text: dash(str(content, 'body')) }));
}
