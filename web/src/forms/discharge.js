// The discharge notice (docs/PATHWAYS.md, "Discharge notice format") as
// data: its fields, what each must be, and the checks of `liaison discharge
// --check` (client/core/notice.c) ported rule for rule, with the CLI's
// French messages (po/fr.po), so that the browser and the CLI give the
// same verdict on the same notice. Pure: no DOM, no network.
//
//   const { problems, notice } = checkNotice(obj, { date: '2026-12-07' });
//   problems: [{ path: 'patient.ins', message: 'INS non valide : …' }], in
//   the CLI's order; notice: the checked copy (discharge_date filled from
//   `date`, INS normalised) or null when there is a problem.
//
// A path is the CLI's ("patient.ins", "discharge_treatments[0].end_date",
// "(the file)"). Lengths are UTF-8 bytes, as the CLI counts them.

export const TEXT_MAX = 200; // names, drugs, doses: one line
export const LONG_TEXT_MAX = 4000; // summaries, recommendations: may have line breaks
export const LIST_MAX = 100;
export const NOTICE_FILE_MAX = 24 * 1024; // the notice must fit one message
export const NOTICE_VERSION = 1;
export const NOTICE_TYPE = 'discharge_notice';

export const ADMISSION_MODES = ['emergency', 'scheduled', 'transfer', 'other'];
export const DISCHARGE_MODES = ['home', 'home_with_care', 'nursing_home', 'transfer', 'other'];
export const CHANGES = ['new', 'modified', 'continued'];

/** The modes' and changes' words, as `liaison` shows them in French (notice_view.c). */
export const MODE_WORDS = {
  admission: {
    emergency: 'urgences', scheduled: 'programmée', transfer: 'transfert depuis un autre établissement',
    other: 'autre',
  },
  discharge: {
    home: 'domicile', home_with_care: 'domicile avec soins (HAD, SSIAD, infirmier)',
    nursing_home: 'EHPAD', transfer: 'transfert vers un autre établissement', other: 'autre',
  },
  change: { new: 'nouveau', modified: 'modifié', continued: 'poursuivi' },
};

// Field kinds (enum field_kind of notice.c).
export const K = {
  TEXT: 'text', LONG_TEXT: 'long_text', DATE: 'date', INS: 'ins', RPPS: 'rpps', FINESS: 'finess',
  SEX: 'sex', ATC: 'atc', CHANGE: 'change', ADMISSION: 'admission', DISCHARGE: 'discharge',
  OBJECT: 'object', TEXTS: 'texts', OBJECTS: 'objects',
};

// f(name, kind, required, hint (the CLI's, in French), label (the form's), sub)
function f(name, kind, required, hint, label, sub = null) {
  return Object.freeze({ name, kind, required, hint, label, sub });
}

const PATIENT = [
  f('family_name', K.TEXT, true, 'le nom de naissance ou d\'usage du patient, tel que sur l\'INS', 'Nom de famille'),
  f('given_names', K.TEXT, true, 'les prénoms du patient', 'Prénoms'),
  f('birth_date', K.DATE, true, 'la date de naissance sous la forme AAAA-MM-JJ', 'Date de naissance'),
  f('sex', K.SEX, false, 'F ou M, comme dans l\'INS', 'Sexe'),
  f('ins', K.INS, true, 'l\'INS : NIR de 13 caractères + clé de 2 chiffres (15 caractères), d\'après la ' +
    'carte Vitale ou le téléservice INSi', 'INS (matricule INS, 15 caractères)'),
];

const DOCTOR = [
  f('name', K.TEXT, true, 'le nom du médecin', 'Nom'),
  f('rpps', K.RPPS, false, 'le numéro RPPS à 11 chiffres (ou omettez le champ)', 'RPPS'),
  f('department', K.TEXT, false, 'le service ou l\'unité', 'Service'),
  f('phone', K.TEXT, false, 'un numéro où joindre le médecin', 'Téléphone'),
];

const ESTABLISHMENT = [
  f('name', K.TEXT, true, 'le nom de l\'hôpital', 'Nom de l’établissement'),
  f('finess', K.FINESS, false, 'le numéro FINESS à 9 chiffres (ou omettez le champ)', 'FINESS'),
];

const STAY = [
  f('summary', K.LONG_TEXT, true, 'une synthèse du séjour', 'Synthèse du séjour'),
  f('adverse_events', K.TEXTS, true, 'les événements indésirables survenus pendant le séjour, en liste de ' +
    'textes ; [] indique qu\'il n\'y en a eu aucun', 'Événements indésirables'),
  f('resistant_organisms', K.TEXTS, true, 'les micro-organismes multirésistants ou émergents identifiés, en ' +
    'liste ; [] si aucun', 'Micro-organismes multirésistants ou émergents'),
  f('blood_products', K.TEXTS, true, 'les produits sanguins administrés, en liste ; [] si aucun',
    'Produits sanguins administrés'),
  f('implanted_devices', K.TEXTS, true, 'les dispositifs médicaux implantés (avec leurs références), en ' +
    'liste ; [] si aucun', 'Dispositifs médicaux implantés'),
];

const TREATMENT = [
  f('drug', K.TEXT, true, 'le médicament (DCI), par ex. "bisoprolol"', 'Médicament (DCI)'),
  f('atc', K.ATC, false, 'le code ATC, par ex. "C07AB07" (ou omettez le champ)', 'Code ATC'),
  f('dose', K.TEXT, true, 'la dose à chaque prise, par ex. "2,5 mg" ou "1 comprimé"', 'Dose'),
  f('frequency', K.TEXT, true, 'quand le prendre, par ex. "1/j", "matin et soir"', 'Fréquence'),
  f('duration', K.TEXT, true, 'combien de temps le prendre (R1112-1-2 le demande), par ex. "7 jours", ' +
    '"3 mois", "au long cours"', 'Durée'),
  f('end_date', K.DATE, false, 'le dernier jour du traitement, AAAA-MM-JJ (ou omettez le champ)', 'Date de fin'),
  f('route', K.TEXT, false, 'la voie, par ex. "orale"', 'Voie'),
  f('change', K.CHANGE, false, 'new, modified ou continued', 'Statut'),
  f('comment', K.TEXT, false, 'un court commentaire', 'Commentaire'),
];

const STOPPED = [
  f('drug', K.TEXT, true, 'le médicament arrêté', 'Médicament arrêté'),
  f('atc', K.ATC, false, 'le code ATC, par ex. "C08DB01" (ou omettez le champ)', 'Code ATC'),
  f('reason', K.TEXT, true, 'pourquoi il a été arrêté (R1112-1-2 demande le motif)', 'Motif d’arrêt'),
  f('replaced_by', K.TEXT, false, 'le médicament qui le remplace, s\'il a été remplacé (ou omettez le champ)',
    'Remplacé par'),
  f('date', K.DATE, false, 'le jour de l\'arrêt, AAAA-MM-JJ, pendant le séjour', 'Date d’arrêt'),
];

const AWAITED = [
  f('test', K.TEXT, true, 'l\'examen dont le résultat est attendu', 'Examen'),
  f('expected_by', K.DATE, false, 'quand le résultat est attendu, AAAA-MM-JJ', 'Attendu pour le'),
  f('comment', K.TEXT, false, 'un court commentaire', 'Commentaire'),
];

const ACT = [
  f('act', K.TEXT, true, 'la consultation ou l\'acte prévu', 'Acte ou consultation'),
  f('date', K.DATE, false, 'sa date, AAAA-MM-JJ', 'Date'),
  f('with', K.TEXT, false, 'qui verra le patient', 'Avec'),
];

const FOLLOW_UP = [
  f('planned_acts', K.OBJECTS, true, 'les actes et consultations prévus, en liste de {"act","date","with"} ; ' +
    '[] si aucun', 'Actes et consultations prévus', ACT),
  f('recommendations', K.LONG_TEXT, true, 'les recommandations aux professionnels', 'Recommandations'),
  f('monitoring', K.LONG_TEXT, true, 'ce qu\'il faut surveiller à domicile', 'Surveillance'),
];

/** The notice's fields, in the CLI's order (notice_fields of notice.c). */
export const NOTICE_FIELDS = [
  f('patient', K.OBJECT, true, 'le patient : {"family_name", ...}', 'Patient', PATIENT),
  f('gp', K.OBJECT, true, 'le médecin traitant : {"name", "rpps"}', 'Médecin traitant', DOCTOR),
  f('referring_doctor', K.OBJECT, false, 'le médecin qui a adressé le patient, s\'il n\'est pas le médecin ' +
    'traitant : {"name", "rpps"}', 'Médecin adresseur (s’il n’est pas le médecin traitant)', DOCTOR),
  f('hospital_doctor', K.OBJECT, true, 'le médecin hospitalier responsable : {"name", "rpps", "department", ' +
    '"phone"}', 'Médecin hospitalier responsable', DOCTOR),
  f('establishment', K.OBJECT, false, 'l\'hôpital : {"name", "finess"}', 'Établissement', ESTABLISHMENT),
  f('admission_date', K.DATE, true, 'le jour d\'admission sous la forme AAAA-MM-JJ', 'Date d’admission'),
  f('admission_mode', K.ADMISSION, false, 'comment le patient est arrivé : emergency, scheduled, transfer ou ' +
    'other', 'Mode d’entrée'),
  f('discharge_date', K.DATE, false, 'le jour de sortie sous la forme AAAA-MM-JJ', 'Date de sortie (J0)'),
  f('discharge_mode', K.DISCHARGE, false, 'où va le patient : home, home_with_care, nursing_home, transfer ' +
    'ou other', 'Mode de sortie'),
  f('discharge_destination', K.TEXT, false, 'l\'établissement ou le service où va le patient (l\'hôpital ' +
    'd\'accueil, le service d\'HAD, l\'EHPAD)', 'Destination'),
  f('reason_for_admission', K.LONG_TEXT, true, 'le motif d\'hospitalisation', 'Motif d’hospitalisation'),
  f('allergies', K.TEXTS, false, 'les allergies et intolérances connues, en liste de textes ; [] indique ' +
    'qu\'il n\'y en a aucune', 'Allergies et intolérances'),
  f('stay_summary', K.OBJECT, true, 'la synthèse du séjour : {"summary", "adverse_events", ' +
    '"resistant_organisms", "blood_products", "implanted_devices"}', 'Synthèse du séjour', STAY),
  f('discharge_treatments', K.OBJECTS, true, 'les traitements de sortie, en liste de {"drug","dose",' +
    '"frequency",...} ; [] si aucun', 'Traitements de sortie', TREATMENT),
  f('stopped_treatments', K.OBJECTS, true, 'les traitements arrêtés, en liste de {"drug","reason"} ; [] si ' +
    'aucun', 'Traitements arrêtés', STOPPED),
  f('results_awaited', K.OBJECTS, true, 'les résultats encore attendus, en liste de {"test","expected_by"} ; ' +
    '[] si aucun', 'Résultats attendus', AWAITED),
  f('follow_up', K.OBJECT, true, 'le suivi : {"planned_acts", "recommendations", "monitoring"}', 'Suivi',
    FOLLOW_UP),
];

/** The field description at a path ("follow_up.planned_acts[2].date"), or null. */
export function fieldAt(path) {
  let fields = NOTICE_FIELDS;
  let found = null;
  for (const part of path.replace(/\[\d+\]/g, '').split('.')) {
    found = (fields || []).find((x) => x.name === part) || null;
    if (!found) return null;
    fields = found.sub;
  }
  return found;
}

// ---- bytes and days ---------------------------------------------------------

const utf8 = new TextEncoder();
const utf8dec = new TextDecoder('utf-8', { fatal: false });

/** UTF-8 length of s, as strlen counts it. */
export function byteLength(s) {
  return utf8.encode(s).length;
}

// "%.Ns": at most n bytes of s (a character cut in two is dropped).
function clip(s, n) {
  const b = utf8.encode(s);
  if (b.length <= n) return s;
  let end = n;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--;
  return utf8dec.decode(b.subarray(0, end));
}

function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor((y >= 0 ? y : y - 399) / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y, m) {
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return m === 2 && leap ? 29 : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}

/** Days since 1970-01-01 of a real calendar day written YYYY-MM-DD (1900–2999), else null (day.c). */
export function parseDay(text) {
  if (typeof text !== 'string' || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(text)) return null;
  const y = Number(text.slice(0, 4));
  const m = Number(text.slice(5, 7));
  const d = Number(text.slice(8, 10));
  if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null;
  return daysFromCivil(y, m, d);
}

/** YYYY-MM-DD of a day number. */
export function formatDay(days) {
  return new Date(days * 86400000).toISOString().slice(0, 10);
}

/** Today as this browser's calendar shows it (its own time zone), as the CLI
 * counts it (day_today()): in Paris from midnight to 01:00 (02:00 in summer)
 * the UTC date is still yesterday's. */
export function today(now = new Date()) {
  return Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()) / 86400000;
}

// ---- identifiers ----------------------------------------------------------------

function luhn(s) {
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    let d = s.charCodeAt(s.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** An RPPS number: 11 digits with a Luhn check digit (shared/ident.c). */
export function rppsValid(s) {
  return typeof s === 'string' && /^[0-9]{11}$/.test(s) && luhn(s);
}

/** A FINESS number: 9 digits with its check digit. */
export function finessValid(s) {
  return typeof s === 'string' && /^[0-9]{9}$/.test(s) && luhn(s);
}

const isDigit = (c) => c >= '0' && c <= '9';

/** The INS (notice_ins_check): null when valid, else why (French, as the CLI). */
export function insProblem(ins) {
  // the CLI works on bytes: spaces dropped, ASCII letters upper-cased
  const bytes = [...utf8.encode(ins)].filter((b) => b !== 0x20);
  if (bytes.length >= 32) return 'il a plus de 15 caractères'; // the CLI's 32-byte buffer
  if (bytes.length !== 15) {
    return `il a ${bytes.length} caractères au lieu de 15 (13 pour le NIR, 2 pour la clé)`;
  }
  const s = bytes.map((b) => String.fromCharCode(b >= 0x61 && b <= 0x7a ? b - 32 : b));
  for (let i = 0; i < 13; i++) {
    const corsica = i === 6 && s[5] === '2' && (s[6] === 'A' || s[6] === 'B');
    if (!corsica && !isDigit(s[i])) {
      return `le caractère ${i + 1} ("${s[i]}") doit être un chiffre (seul le département peut être 2A ou 2B)`;
    }
  }
  if (!'123478'.includes(s[0])) return `il doit commencer par 1 ou 2 (NIR) ou 7 ou 8 (NIA), pas par ${s[0]}`;
  let nir = 0;
  for (let i = 0; i < 13; i++) {
    let digit = s[i].charCodeAt(0) - 48;
    if (i === 5 && (s[6] === 'A' || s[6] === 'B')) digit = 1; // 2A → 19, 2B → 18
    else if (i === 6 && s[6] === 'A') digit = 9;
    else if (i === 6 && s[6] === 'B') digit = 8;
    nir = nir * 10 + digit;
  }
  if (!isDigit(s[13]) || !isDigit(s[14])) return 'la clé (2 derniers caractères) doit être en chiffres';
  const key = Number(s[13] + s[14]);
  const expected = 97 - (nir % 97);
  if (key !== expected) {
    const two = (n) => String(n).padStart(2, '0');
    return `la clé ${two(key)} ne correspond pas au NIR ${s.slice(0, 13).join('')} (la clé de ce NIR est ` +
      `${two(expected)})`;
  }
  return null;
}

/** The INS as the notice keeps it: without spaces, upper case (normalise_ins). */
export function normaliseIns(ins) {
  return ins.replace(/ /g, '').replace(/[a-z]/g, (c) => c.toUpperCase());
}

// ---- one value ----------------------------------------------------------------------

// text_ok: no control character (line breaks and tabs allowed in a long
// text), not only white space. Returns the byte length, or -1.
function textLength(s, long) {
  let blank = true;
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if ((c < 0x20 && !(long && (c === 0x0a || c === 0x09))) || c === 0x7f) return -1;
    blank = blank && (c === 0x20 || (c >= 0x09 && c <= 0x0d));
  }
  return blank ? -1 : byteLength(s);
}

function atcOk(s) {
  const shape = 'A99AA99';
  if (![1, 3, 4, 5, 7].includes(s.length)) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (shape[i] === 'A' ? !(c >= 'A' && c <= 'Z') : !isDigit(c)) return false;
  }
  return true;
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isAbsent = (v) => v === undefined || v === null;

const MSG = {
  notObject: 'un objet { ... } est attendu ; voir le format de l\'avis de sortie dans docs/PATHWAYS.md',
  unknown: 'champ inconnu : vérifiez son orthographe dans le format de l\'avis de sortie (docs/PATHWAYS.md), ' +
    'ou supprimez-le',
  missing: (hint) => `manquant : ajoutez ${hint}`,
  notList: (hint) => `une liste est attendue : écrivez ${hint}`,
  tooMany: `plus de ${LIST_MAX} entrées : limitez l'avis à ce dont les professionnels ont besoin, et joignez la ` +
    'lettre complète avec --letter',
  badLine: (hint) => `une ligne de texte non vide est attendue (au plus ${TEXT_MAX} octets) ; écrivez ${hint}`,
  notString: (hint) => `un texte entre guillemets est attendu : écrivez ${hint}`,
  empty: (hint) => `vide ou avec des caractères de contrôle : écrivez ${hint}`,
  tooLong: (max) => `plus de ${max} octets : raccourcissez-le, et joignez la lettre complète avec --letter`,
  notDate: (s, hint) => `"${clip(s, 40)}" n'est pas une date : écrivez ${hint}`,
  badIns: (why) => `INS non valide : ${why} : vérifiez les 15 caractères sur la carte Vitale ou avec le ` +
    'téléservice INSi',
  badRpps: (s, hint) => `"${clip(s, 40)}" n'est pas un numéro RPPS valide (11 chiffres, le dernier étant une ` +
    `clé de contrôle) : écrivez ${hint}`,
  badFiness: (s, hint) => `"${clip(s, 40)}" n'est pas un numéro FINESS valide : écrivez ${hint}`,
  badSex: (s, hint) => `"${clip(s, 40)}" n'est ni F ni M : écrivez ${hint}`,
  badAtc: (s, hint) => `"${clip(s, 40)}" n'est pas un code ATC : écrivez ${hint}`,
  badChoice: (s, list, hint) => `"${clip(s, 40)}" n'est pas l'une des valeurs ${list.join(', ')} : écrivez ${hint}`,
  tooLarge: `plus de ${NOTICE_FILE_MAX / 1024} Kio : limitez l'avis à ses champs et joignez la lettre complète ` +
    'avec --letter',
  insBirth: (ins, birth) => `l'INS indique une naissance en ${ins.slice(3, 5)}/${ins.slice(1, 3)} mais ` +
    `birth_date vaut ${birth} : vérifiez l'INS et la date de naissance`,
  insSex: (sex, c) => `${sex} ne correspond pas à l'INS (qui commence par ${c}) : vérifiez les deux`,
  before: (d, bound, fix) => `${d} est antérieur à ${bound} : ${fix}`,
  after: (d, bound, fix) => `${d} est postérieur à ${bound} : ${fix}`,
  birthFuture: 'est dans le futur : vérifiez la date de naissance',
  admissionBeforeBirth: 'est antérieure à la date de naissance : vérifiez les deux dates',
  dischargeBeforeAdmission: 'est antérieure à admission_date : vérifiez les deux dates',
  transfer: 'manquant : avec discharge_mode transfer, nommez l\'établissement vers lequel le patient est ' +
    'transféré',
  noDate: 'manquant : ajoutez le jour de sortie sous la forme AAAA-MM-JJ, ou donnez-le avec --date',
  dateConflict: (have, date) => `l'avis indique ${clip(have, 20)} mais --date indique ${date} : corrigez l'un ` +
    'des deux',
};

// the path of a key under path ("%.90s%s%.60s")
const sub = (path, key) => `${clip(path, 90)}${path ? '.' : ''}${clip(key, 60)}`;

function checkString(out, s, fd, path) {
  const choice = (list) => {
    if (!list.includes(s)) out.push([path, MSG.badChoice(s, list, fd.hint)]);
  };
  switch (fd.kind) {
    case K.TEXT:
    case K.LONG_TEXT: {
      const long = fd.kind === K.LONG_TEXT;
      const n = textLength(s, long);
      const max = long ? LONG_TEXT_MAX : TEXT_MAX;
      if (n < 0) out.push([path, MSG.empty(fd.hint)]);
      else if (n > max) out.push([path, MSG.tooLong(max)]);
      break;
    }
    case K.DATE:
      if (parseDay(s) === null) out.push([path, MSG.notDate(s, fd.hint)]);
      break;
    case K.INS: {
      const why = insProblem(s);
      if (why) out.push([path, MSG.badIns(why)]);
      break;
    }
    case K.RPPS:
      if (!rppsValid(s)) out.push([path, MSG.badRpps(s, fd.hint)]);
      break;
    case K.FINESS:
      if (!finessValid(s)) out.push([path, MSG.badFiness(s, fd.hint)]);
      break;
    case K.SEX:
      if (s !== 'F' && s !== 'M') out.push([path, MSG.badSex(s, fd.hint)]);
      break;
    case K.ATC:
      if (!atcOk(s)) out.push([path, MSG.badAtc(s, fd.hint)]);
      break;
    case K.CHANGE: choice(CHANGES); break;
    case K.ADMISSION: choice(ADMISSION_MODES); break;
    case K.DISCHARGE: choice(DISCHARGE_MODES); break;
    default: break;
  }
}

function checkList(out, value, fd, path) {
  if (!Array.isArray(value)) {
    out.push([path, MSG.notList(fd.hint)]);
    return;
  }
  if (value.length > LIST_MAX) {
    out.push([path, MSG.tooMany]);
    return;
  }
  value.forEach((item, i) => {
    const p = `${clip(path, 90)}[${i}]`;
    if (fd.kind === K.OBJECTS) checkObject(out, item, fd.sub, p);
    else if (typeof item !== 'string' || textLength(item, false) < 0 || byteLength(item) > TEXT_MAX) {
      out.push([p, MSG.badLine(fd.hint)]);
    }
  });
}

function checkValue(out, value, fd, path) {
  if (fd.kind === K.OBJECT) checkObject(out, value, fd.sub, path);
  else if (fd.kind === K.TEXTS || fd.kind === K.OBJECTS) checkList(out, value, fd, path);
  else if (typeof value !== 'string') out.push([path, MSG.notString(fd.hint)]);
  else checkString(out, value, fd, path);
}

function checkObject(out, obj, fields, path) {
  if (!isObject(obj)) {
    out.push([path || '(the file)', MSG.notObject]);
    return;
  }
  for (const key of Object.keys(obj)) {
    if (!fields.some((x) => x.name === key)) out.push([sub(path, key), MSG.unknown]);
  }
  for (const fd of fields) {
    const p = sub(path, fd.name);
    const value = Object.prototype.hasOwnProperty.call(obj, fd.name) ? obj[fd.name] : undefined;
    if (isAbsent(value)) {
      if (fd.required) out.push([p, MSG.missing(fd.hint)]);
      continue;
    }
    checkValue(out, value, fd, p);
  }
}

// ---- checks across fields ------------------------------------------------------------

const get = (obj, key) => (isObject(obj) ? obj[key] : undefined);
const dayOf = (obj, key) => parseDay(get(obj, key));

function checkInsIdentity(out, patient) {
  const ins = get(patient, 'ins');
  const birth = get(patient, 'birth_date');
  const sex = get(patient, 'sex');
  if (typeof ins !== 'string' || insProblem(ins)) return;
  if (typeof birth === 'string' && parseDay(birth) !== null) {
    const month = Number(ins.slice(3, 5));
    const sameYear = ins[1] === birth[2] && ins[2] === birth[3];
    const sameMonth = month < 1 || month > 12 || (ins[3] === birth[5] && ins[4] === birth[6]);
    if (!sameYear || !sameMonth) out.push(['patient.ins', MSG.insBirth(ins, birth)]);
  }
  if (typeof sex === 'string' && (ins[0] === '1' || ins[0] === '2') && (ins[0] === '1') !== (sex === 'M')) {
    out.push(['patient.sex', MSG.insSex(sex, ins[0])]);
  }
}

const DATE_RULES = {
  awaited: { list: 'results_awaited', key: 'expected_by', lower: 'admission_date', upper: null,
    fix: 'un résultat attendu à la sortie ne peut pas être attendu avant le début du séjour ; vérifiez la ' +
      'date, ou placez un résultat déjà reçu dans la synthèse du séjour' },
  act: { list: 'follow_up.planned_acts', key: 'date', lower: 'discharge_date', upper: null,
    fix: 'un acte prévu après le séjour tombe le jour de la sortie ou après ; vérifiez la date, ou placez un ' +
      'acte fait pendant le séjour dans la synthèse du séjour' },
  end: { list: 'discharge_treatments', key: 'end_date', lower: 'discharge_date', upper: null,
    fix: 'un traitement prescrit à la sortie se termine le jour de la sortie ou après ; vérifiez la date, ou ' +
      'mettez un traitement arrêté pendant le séjour dans stopped_treatments' },
  stopped: { list: 'stopped_treatments', key: 'date', lower: 'admission_date', upper: 'discharge_date',
    fix: 'un traitement arrêté pendant le séjour l\'est entre admission_date et discharge_date ; vérifiez ' +
      'la date' },
};

function checkListDates(out, list, r, lower, upper) {
  if (!Array.isArray(list)) return;
  list.forEach((item, i) => {
    const day = dayOf(item, r.key);
    if (!isObject(item) || day === null) return;
    const path = `${r.list}[${i}].${r.key}`;
    if (r.lower && lower !== null && day < lower) out.push([path, MSG.before(item[r.key], r.lower, r.fix)]);
    else if (r.upper && upper !== null && day > upper) out.push([path, MSG.after(item[r.key], r.upper, r.fix)]);
  });
}

function checkDates(out, notice, now) {
  const patient = get(notice, 'patient');
  const birth = dayOf(patient, 'birth_date');
  const admission = dayOf(notice, 'admission_date');
  const discharge = dayOf(notice, 'discharge_date');
  if (birth !== null && birth > now) out.push(['patient.birth_date', MSG.birthFuture]);
  if (birth !== null && admission !== null && admission < birth) {
    out.push(['admission_date', MSG.admissionBeforeBirth]);
  }
  if (admission !== null && discharge !== null && discharge < admission) {
    out.push(['discharge_date', MSG.dischargeBeforeAdmission]);
  }
  checkListDates(out, get(notice, 'results_awaited'), DATE_RULES.awaited, admission, null);
  checkListDates(out, get(get(notice, 'follow_up'), 'planned_acts'), DATE_RULES.act, discharge, null);
  checkListDates(out, get(notice, 'discharge_treatments'), DATE_RULES.end, discharge, null);
  checkListDates(out, get(notice, 'stopped_treatments'), DATE_RULES.stopped, admission, discharge);
}

function checkModes(out, notice) {
  const mode = get(notice, 'discharge_mode');
  if (mode === 'transfer' && isAbsent(get(notice, 'discharge_destination'))) {
    out.push(['discharge_destination', MSG.transfer]);
  }
}

// --date fills or must agree with discharge_date
function applyDate(out, notice, date) {
  const have = notice.discharge_date;
  if (isAbsent(have)) {
    if (date === null || date === undefined) out.push(['discharge_date', MSG.noDate]);
    else notice.discharge_date = date;
    return;
  }
  if (date && typeof have === 'string' && have !== date) out.push(['discharge_date', MSG.dateConflict(have, date)]);
}

/**
 * Checks a notice as `liaison discharge --check --notice FILE [--date DATE]`
 * does (notice_load). obj: the parsed notice (not modified); date: the
 * discharge day the case gives (YYYY-MM-DD, or null); now: today's day
 * number (tests). Returns {problems: [{path, message}], notice}.
 */
export function checkNotice(obj, { date = null, now = today() } = {}) {
  const out = [];
  const result = () => ({
    problems: out.map(([path, message]) => ({ path, message })),
    notice: out.length ? null : notice,
  });
  let notice;
  try {
    notice = JSON.parse(JSON.stringify(obj === undefined ? null : obj));
  } catch {
    notice = null;
  }
  if (byteLength(JSON.stringify(obj === undefined ? null : obj) || '') > NOTICE_FILE_MAX) {
    out.push(['(the file)', MSG.tooLarge]);
    notice = null;
    return result();
  }
  checkObject(out, notice, NOTICE_FIELDS, '');
  if (isObject(notice)) {
    applyDate(out, notice, date);
    checkModes(out, notice);
    if (out.length === 0) {
      notice.patient.ins = normaliseIns(notice.patient.ins);
      checkInsIdentity(out, notice.patient);
    }
    checkDates(out, notice, now);
  }
  return result();
}

/** The problems grouped by path: {path: [message…]}. */
export function problemsByPath(problems) {
  const by = {};
  for (const p of problems) (by[p.path] = by[p.path] || []).push(p.message);
  return by;
}

/** The CLI's closing line for n problems (cmd_discharge.c), the file named as `what`. */
export function problemsSummary(n, what) {
  return n === 1 ? `1 problème dans ${what} : rien n'a été envoyé ; corrigez le fichier et relancez la commande`
    : `${n} problèmes dans ${what} : rien n'a été envoyé ; corrigez le fichier et relancez la commande`;
}

/**
 * The message content posted in the case thread (cmd_discharge.c
 * post_notice): {type, version, case, patient_ref, pathway, j0, notice[,
 * letter]}; letter: the "file" fields of the attachment (without type and
 * caption), or null.
 */
export function noticeContent({ caseHex, patientRef, pathway, j0, notice, letter = null }) {
  const content = {
    type: NOTICE_TYPE, version: NOTICE_VERSION, case: caseHex, patient_ref: patientRef, pathway, j0, notice,
  };
  if (letter) {
    const l = { ...letter };
    delete l.type;
    delete l.caption;
    content.letter = l;
  }
  return content;
}

/** "FAMILY Given" as notice_patient_name (the notice or a content holding it). */
export function patientName(obj) {
  const notice = isObject(get(obj, 'notice')) ? obj.notice : obj;
  const p = get(notice, 'patient');
  const family = get(p, 'family_name');
  const given = get(p, 'given_names');
  if (typeof family !== 'string') return '';
  return typeof given === 'string' ? `${family} ${given}` : family;
}
