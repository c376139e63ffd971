// "Avis de sortie" (#/discharge/<casehex>): the discharge team's form for
// the notice of an open case (docs/PATHWAYS.md, "Discharge notice format"),
// in French. Each field is checked as the user leaves it, with the rules and
// messages of `liaison discharge --check` (forms/discharge.js): the message
// goes next to the field (aria-invalid, aria-describedby), and everything is
// checked again on "Publier l'avis". Then, as the CLI does: the notice's
// content is sent into the case thread (encrypted), and `notice_post` tells
// the server which message it is (recipients: every current member but the
// poster; `letter: true` when the lettre de liaison, a file chosen in the
// form, was encrypted and uploaded first and its fields put in the notice),
// and the server's reply is shown (recipients recorded, steps done).
// The discharge day is the case's J0 (the CLI's --date).
import { h, statusLine } from './dom.js';
import { idemKey } from '../net/client.js';
import * as D from '../forms/discharge.js';
import { sendCare } from './kinds_care.js';
import { uploadFile, checkSize, frenchSize } from '../core/attachments.js';

const HEX = /^[0-9a-f]{32}$/;
const DAY_MS = 86400000;

/** The day a case's j0 (local midnight, ms) names: the nearest UTC midnight (PROTOCOL.md). */
export function dayOfStart(ms) {
  return Math.floor((ms + DAY_MS / 2) / DAY_MS);
}

const CHOICES = {
  [D.K.SEX]: [['F', 'femme'], ['M', 'homme']],
  [D.K.ADMISSION]: D.ADMISSION_MODES.map((c) => [c, D.MODE_WORDS.admission[c]]),
  [D.K.DISCHARGE]: D.DISCHARGE_MODES.map((c) => [c, D.MODE_WORDS.discharge[c]]),
  [D.K.CHANGE]: D.CHANGES.map((c) => [c, D.MODE_WORDS.change[c]]),
};

const LIST_HINT = 'Une entrée par ligne ; laissez vide s’il n’y en a aucune.';
const HINTS = {
  [D.K.DATE]: 'AAAA-MM-JJ',
  [D.K.INS]: '13 caractères du NIR et 2 chiffres de clé ; espaces permis',
  [D.K.RPPS]: '11 chiffres',
  [D.K.FINESS]: '9 chiffres',
  [D.K.ATC]: 'par ex. C07AB07',
  [D.K.TEXTS]: LIST_HINT,
};

// The repeated entries: the list's path, its field table, the words for one.
const LISTS = {
  discharge_treatments: { one: 'Traitement', add: 'Ajouter un traitement de sortie' },
  stopped_treatments: { one: 'Traitement arrêté', add: 'Ajouter un traitement arrêté' },
  results_awaited: { one: 'Résultat attendu', add: 'Ajouter un résultat attendu' },
  'follow_up.planned_acts': { one: 'Acte prévu', add: 'Ajouter un acte ou une consultation' },
};

let seq = 0;

function setPath(obj, path, value) {
  const parts = path.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (!o[p] || typeof o[p] !== 'object') o[p] = {};
    o = o[p];
  }
  o[parts[parts.length - 1]] = value;
}

/** Lines of a textarea as a list: each trimmed, empty lines left out. */
function lines(text) {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

class NoticeForm {
  constructor(ctx, kase, j0) {
    this.ctx = ctx;
    this.kase = kase;
    this.j0 = j0;
    this.controls = new Map(); // path -> {input, err, hintId, fd}
    this.touched = new Set();
    this.lists = {}; // list path -> {fd, rows: [{el, controls: {name: control}}], box}
  }

  // One labelled control for field fd at path; registered for checking.
  control(path, fd, { value = '', readonly = false } = {}) {
    const id = `d${++seq}`;
    const hint = fd.kind === D.K.TEXTS ? LIST_HINT : HINTS[fd.kind] || null;
    const hintId = hint ? `${id}-hint` : null;
    let input;
    if (CHOICES[fd.kind]) {
      input = h('select', { id },
        h('option', { value: '', text: fd.required ? '— choisir —' : '— non renseigné —' }),
        CHOICES[fd.kind].map(([v, t]) => h('option', { value: v, text: `${t} (${v})` })));
    } else if (fd.kind === D.K.LONG_TEXT || fd.kind === D.K.TEXTS) {
      input = h('textarea', { id, rows: fd.kind === D.K.LONG_TEXT ? 4 : 2 });
    } else {
      input = h('input', { id, type: 'text', autocomplete: 'off', readonly: readonly || null,
        inputmode: fd.kind === D.K.RPPS || fd.kind === D.K.FINESS ? 'numeric' : null,
        placeholder: fd.kind === D.K.DATE ? 'AAAA-MM-JJ' : null });
    }
    input.value = value;
    input.dataset.path = path;
    if (fd.required) input.setAttribute('aria-required', 'true');
    const err = h('p', { class: 'field-error', id: `${id}-err`, hidden: true });
    const c = { input, err, hintId, fd, path };
    this.describe(c, false);
    this.controls.set(path, c);
    // a field is checked once the user has typed in it, or left it with a
    // value (tabbing through an empty field says nothing yet; submit does)
    input.addEventListener('input', () => { c.dirty = true; });
    input.addEventListener('change', () => { c.dirty = true; });
    input.addEventListener('blur', () => {
      if (c.dirty || input.value !== '') this.touched.add(c.path);
      this.check();
    });
    const label = `${fd.label}${fd.required ? ' *' : ''}`;
    return h('div', { class: 'field' }, h('label', { for: id, text: label }), input,
      hint ? h('small', { id: hintId, text: hint }) : null, err);
  }

  describe(c, invalid) {
    const ids = [c.hintId, invalid ? c.err.id : null].filter(Boolean).join(' ');
    if (ids) c.input.setAttribute('aria-describedby', ids);
    else c.input.removeAttribute('aria-describedby');
    if (invalid) c.input.setAttribute('aria-invalid', 'true');
    else c.input.removeAttribute('aria-invalid');
  }

  // A fieldset of an object's simple fields (prefix "gp", "patient", …).
  group(prefix, legend, fields, values = {}, { skip = [] } = {}) {
    return h('fieldset', { class: 'notice-group' }, h('legend', { text: legend }),
      fields.filter((fd) => !skip.includes(fd.name)).map((fd) =>
        this.control(prefix ? `${prefix}.${fd.name}` : fd.name, fd, { value: values[fd.name] || '' })));
  }

  // A repeated list of objects: its rows and an "add" button.
  list(path) {
    const fd = D.fieldAt(path);
    const words = LISTS[path];
    const box = h('div', { class: 'notice-rows' });
    const status = h('p', { class: 'field-error', id: `d${++seq}-err`, hidden: true });
    const add = h('button', { type: 'button', class: 'secondary', text: words.add,
      onclick: () => { this.addRow(path); } });
    const l = { path, fd, rows: [], box, words, status, add };
    this.lists[path] = l;
    return h('fieldset', { class: 'notice-group', 'data-list': path },
      h('legend', { text: `${fd.label} *` }),
      h('p', { class: 'hint', text: 'Sans entrée, l’avis dit qu’il n’y en a aucun.' }),
      box, status, add);
  }

  addRow(path, focus = true) {
    const l = this.lists[path];
    const row = { controls: {} };
    const legend = h('legend');
    const fields = l.fd.sub.map((fd) => {
      const el = this.control(`${path}[${l.rows.length}].${fd.name}`, fd);
      row.controls[fd.name] = this.controls.get(`${path}[${l.rows.length}].${fd.name}`);
      return el;
    });
    const remove = h('button', { type: 'button', class: 'secondary remove', onclick: () => this.removeRow(path, row) });
    row.el = h('fieldset', { class: 'notice-row' }, legend, h('div', { class: 'notice-row-fields' }, fields), remove);
    row.legend = legend;
    row.remove = remove;
    l.rows.push(row);
    l.box.append(row.el);
    this.renumber(path);
    if (focus) row.controls[l.fd.sub[0].name].input.focus();
  }

  removeRow(path, row) {
    const l = this.lists[path];
    const i = l.rows.indexOf(row);
    if (i < 0) return;
    l.rows.splice(i, 1);
    row.el.remove();
    for (const c of Object.values(row.controls)) {
      this.controls.delete(c.path);
      this.touched.delete(c.path);
    }
    this.renumber(path);
    this.check();
    const next = l.rows[Math.min(i, l.rows.length - 1)];
    (next ? next.remove : l.add).focus();
  }

  // Paths follow the rows' order: "discharge_treatments[1].dose".
  renumber(path) {
    const l = this.lists[path];
    const moved = [];
    l.rows.forEach((row, i) => {
      row.legend.textContent = `${l.words.one} ${i + 1}`;
      row.remove.textContent = `Retirer : ${l.words.one.toLowerCase()} ${i + 1}`;
      for (const [name, c] of Object.entries(row.controls)) {
        const p = `${path}[${i}].${name}`;
        if (c.path !== p) {
          const wasTouched = this.touched.delete(c.path);
          if (this.controls.get(c.path) === c) this.controls.delete(c.path);
          c.path = p;
          c.input.dataset.path = p;
          moved.push([c, wasTouched]);
        }
      }
    });
    for (const [c, wasTouched] of moved) {
      this.controls.set(c.path, c);
      if (wasTouched) this.touched.add(c.path);
    }
  }

  /** The notice as the form has it: empty fields left out (absent), lists as lists. */
  collect() {
    const n = {};
    for (const [path, c] of this.controls) {
      if (/\[\d+\]/.test(path)) continue; // rows below
      const v = c.input.value;
      if (c.fd.kind === D.K.TEXTS) {
        if (path === 'allergies') {
          if (this.noAllergy.checked) n.allergies = [];
          else if (lines(v).length) n.allergies = lines(v);
        } else {
          setPath(n, path, lines(v));
        }
      } else if (v !== '') {
        setPath(n, path, v);
      }
    }
    for (const name of ['patient', 'gp', 'hospital_doctor', 'stay_summary', 'follow_up']) {
      if (!n[name]) n[name] = {};
    }
    for (const [path, l] of Object.entries(this.lists)) {
      setPath(n, path, l.rows.map((row) => {
        const o = {};
        for (const [name, c] of Object.entries(row.controls)) if (c.input.value !== '') o[name] = c.input.value;
        return o;
      }));
    }
    // the fields in the CLI's order (a readable message content)
    const ordered = {};
    for (const fd of D.NOTICE_FIELDS) if (n[fd.name] !== undefined) ordered[fd.name] = n[fd.name];
    return ordered;
  }

  // The control a problem's path belongs to: itself, or its list ("…adverse_events[2]").
  controlOf(path) {
    return this.controls.get(path) || this.controls.get(path.replace(/\[\d+\]$/, '')) || null;
  }

  /** Checks the whole notice; shows the problems of the touched fields; returns them all. */
  check(all = false) {
    const { problems, notice } = D.checkNotice(this.collect(), { date: this.j0 });
    const shown = new Map();
    const loose = [];
    for (const p of problems) {
      const c = this.controlOf(p.path);
      if (c && (all || this.touched.has(c.path))) {
        if (!shown.has(c)) shown.set(c, []);
        shown.get(c).push(p.message);
      } else if (!c && all) {
        loose.push(p);
      }
    }
    for (const c of this.controls.values()) {
      const msgs = shown.get(c);
      c.err.textContent = msgs ? msgs.join(' ') : '';
      c.err.hidden = !msgs;
      this.describe(c, !!msgs);
    }
    for (const l of Object.values(this.lists)) {
      const mine = loose.filter((p) => p.path === l.path || p.path.startsWith(`${l.path}[`));
      l.status.textContent = mine.map((p) => p.message).join(' ');
      l.status.hidden = mine.length === 0;
    }
    return { problems, notice, shown, loose };
  }
}

async function loadCase(ctx, hex) {
  const reply = await ctx.conn.request('case_get', { case: hex });
  return reply;
}

function resultView(kase, seqNo, reply, members, me, attached) {
  const names = members.filter((m) => m.user !== me).map((m) => m.name);
  const steps = (reply.steps_done || []).map((s) => `${s.label || s.step} (${s.step})`);
  return h('section', { class: 'notice', 'data-testid': 'notice-result' },
    h('h2', { text: 'Avis de sortie publié' }),
    h('dl', {},
      h('dt', { text: 'Dossier' }), h('dd', { text: kase.patient_ref, dataset: { field: 'patient_ref' } }),
      h('dt', { text: 'Message' }), h('dd', { text: `n° ${seqNo}`, dataset: { field: 'seq' } }),
      h('dt', { text: 'Doivent accuser réception' }),
      h('dd', { text: `${reply.recipients} personne${reply.recipients > 1 ? 's' : ''}` +
        `${names.length ? ` : ${names.join(', ')}` : ''}`, dataset: { field: 'recipients' } }),
      h('dt', { text: 'Lettre de liaison' }),
      h('dd', { text: attached ? `${attached.name} (${frenchSize(attached.size)}), chiffrée et jointe` : 'non jointe',
        dataset: { field: 'letter' } }),
      h('dt', { text: 'Étapes faites' }),
      h('dd', { text: steps.length ? steps.join(', ') : 'aucune', dataset: { field: 'steps_done' } })),
    h('p', { class: 'hint', text: 'Sans accusé de réception de tous dans les 24 h, l’avis est signalé aux ' +
      'coordinateurs de la CPTS.' }));
}

async function render(ctx, arg) {
  const status = statusLine();
  const head = h('h1', { text: 'Avis de sortie' });
  if (!arg || !HEX.test(arg)) {
    status.error('Dossier inconnu : ouvrez l’avis de sortie depuis la page du dossier (bad_request)');
    return h('section', {}, head, status.el);
  }
  const got = await loadCase(ctx, arg);
  const kase = got.case;
  const members = got.members || [];
  const j0 = D.formatDay(dayOfStart(kase.j0));
  const intro = h('p', { text: `Dossier ${kase.patient_ref} · parcours ${kase.pathway} · J0 ${j0}. ` +
    'Les champs marqués * sont obligatoires (article R1112-1-2 du code de la santé publique). L’avis est ' +
    'chiffré pour les membres du fil ; le serveur n’en voit rien.' });
  if (!got.member) {
    status.error(`Vous n’êtes pas membre du fil du dossier ${kase.patient_ref} : seuls ses membres publient l’avis ` +
      'de sortie (demandez à l’un de ses administrateurs de vous ajouter)');
    return h('section', {}, head, intro, status.el);
  }
  if (kase.status !== 'open') {
    status.error('Dossier clos : on ne peut plus y publier d’avis de sortie (case_closed)');
    return h('section', {}, head, intro, status.el);
  }
  if (got.notice) {
    status.info(`Un avis de sortie est déjà publié dans ce dossier (message n° ${got.notice.seq}).`);
    return h('section', {}, head, intro, status.el);
  }
  const me = ctx.me.user.id;
  const gps = members.filter((m) => m.profession === 'gp' && m.user !== me);
  const form = new NoticeForm(ctx, kase, j0);
  const F = (name) => D.fieldAt(name);
  const allergies = form.control('allergies', F('allergies'));
  form.noAllergy = h('input', { type: 'checkbox', id: `d${++seq}` });
  form.noAllergy.addEventListener('change', () => {
    form.controls.get('allergies').input.disabled = form.noAllergy.checked;
    form.touched.add('allergies');
    form.check();
  });
  const recipients = members.filter((m) => m.user !== me);
  // the lettre de liaison (optional): a file, encrypted and uploaded on submit (liaison discharge --letter)
  const letterId = `d${++seq}`;
  const letter = {
    input: h('input', { type: 'file', id: letterId, accept: '.pdf,application/pdf', 'aria-describedby': `${letterId}-hint` }),
    err: h('p', { class: 'field-error', id: `${letterId}-err`, hidden: true }),
    check() {
      const file = letter.input.files && letter.input.files[0];
      let why = null;
      try {
        if (file) checkSize(file);
      } catch (e) {
        why = e.message;
      }
      letter.err.textContent = why || '';
      letter.err.hidden = !why;
      letter.input.setAttribute('aria-describedby', `${letterId}-hint${why ? ` ${letterId}-err` : ''}`);
      if (why) letter.input.setAttribute('aria-invalid', 'true');
      else letter.input.removeAttribute('aria-invalid');
      return why;
    },
  };
  letter.el = h('div', { class: 'field' }, h('label', { for: letterId, text: 'Lettre de liaison (PDF)' }), letter.input,
    h('small', { id: `${letterId}-hint`, text: 'Facultative, 50 Mo au plus. Chiffrée et jointe à l’avis, elle fait ' +
      'l’étape « Lettre de liaison » du parcours.' }), letter.err);
  letter.input.addEventListener('change', () => letter.check());
  const submit = h('button', { type: 'submit', text: 'Publier l’avis de sortie' });
  const el = h('form', { novalidate: true, class: 'notice-form', 'aria-labelledby': 'discharge-title' },
    form.group('patient', 'Patient', F('patient').sub),
    form.group('gp', 'Médecin traitant', F('gp').sub, { name: gps.length === 1 ? gps[0].name : '' }),
    form.group('referring_doctor', 'Médecin adresseur (s’il n’est pas le médecin traitant)', F('referring_doctor').sub),
    form.group('hospital_doctor', 'Médecin hospitalier responsable', F('hospital_doctor').sub,
      { name: ctx.me.user.profession === 'hospital_doctor' ? ctx.me.user.name : '' }),
    form.group('establishment', 'Établissement', F('establishment').sub,
      { name: ctx.me.user.org && ctx.me.user.org.name ? ctx.me.user.org.name : '' }),
    h('fieldset', { class: 'notice-group' }, h('legend', { text: 'Séjour' }),
      form.control('admission_date', F('admission_date')),
      form.control('admission_mode', F('admission_mode')),
      form.control('discharge_date', F('discharge_date'), { value: j0, readonly: true }),
      form.control('discharge_mode', F('discharge_mode')),
      form.control('discharge_destination', F('discharge_destination')),
      form.control('reason_for_admission', F('reason_for_admission')),
      allergies,
      h('div', { class: 'field checkbox' }, form.noAllergy,
        h('label', { for: form.noAllergy.id, text: 'Aucune allergie ni intolérance connue' }))),
    form.group('stay_summary', 'Synthèse du séjour', F('stay_summary').sub),
    form.list('discharge_treatments'),
    form.list('stopped_treatments'),
    form.list('results_awaited'),
    h('fieldset', { class: 'notice-group' }, h('legend', { text: 'Suivi' }),
      form.control('follow_up.recommendations', D.fieldAt('follow_up.recommendations')),
      form.control('follow_up.monitoring', D.fieldAt('follow_up.monitoring'))),
    form.list('follow_up.planned_acts'),
    h('fieldset', { class: 'notice-group' }, h('legend', { text: 'Lettre de liaison' }), letter.el),
    h('p', { text: `Doivent accuser réception : ${recipients.length ? recipients.map((m) => m.name).join(', ')
      : 'personne (ajoutez d’abord les professionnels au fil du dossier)'}.`, 'data-testid': 'recipients' }),
    status.el,
    submit);
  el.addEventListener('submit', async (e) => {
    e.preventDefault();
    const { problems, notice, shown, loose } = form.check(true);
    const letterWhy = letter.check();
    if (letterWhy && !problems.length) {
      status.error(`La lettre ne peut pas être jointe : rien n’a été envoyé. ${letterWhy}`);
      letter.input.focus();
      return;
    }
    if (problems.length) {
      // a problem no field holds (the whole notice too large) is said here
      const whole = loose.filter((p) => !Object.keys(form.lists).some((l) => p.path === l || p.path.startsWith(`${l}[`)));
      status.error(`${problems.length === 1 ? '1 problème' : `${problems.length} problèmes`} dans l’avis : rien ` +
        'n’a été envoyé ; corrigez les champs signalés et publiez à nouveau.' +
        `${whole.map((p) => ` ${p.message}`).join('')}`);
      const first = [...form.controls.values()].find((c) => shown.has(c));
      if (first) first.input.focus();
      return;
    }
    submit.disabled = true;
    status.info('Chiffrement et envoi de l’avis…');
    let sent = 0;
    const file = letter.input.files && letter.input.files[0];
    try {
      let attached = null;
      if (file) {
        status.info(`Chiffrement et envoi de la lettre « ${file.name} »…`);
        attached = await uploadFile(ctx.conn, kase.channel, file, {
          onProgress: (done, total) => status.info(`Chiffrement et envoi de la lettre « ${file.name} » : ` +
            `${frenchSize(done)} sur ${frenchSize(total)}`),
        });
        status.info('Chiffrement et envoi de l’avis…');
      }
      const content = D.noticeContent({ caseHex: kase.case, patientRef: kase.patient_ref, pathway: kase.pathway,
        j0, notice, letter: attached });
      sent = await sendCare(ctx, kase.channel, content);
      const reply = await ctx.conn.request('notice_post', { idem: idemKey(), case: kase.case, seq: sent,
        letter: attached !== null });
      status.info(`Avis de sortie publié : dossier ${kase.patient_ref}, message n° ${sent}.`);
      el.replaceWith(resultView(kase, sent, reply, members, me, attached));
    } catch (err) {
      submit.disabled = false;
      status.error(sent ? `L’avis a été envoyé dans le fil (message n° ${sent}) mais pas enregistré ` +
        `(notice_post) : ${err.message}` : err.message);
    }
  });
  return h('section', {}, h('h1', { id: 'discharge-title', text: 'Avis de sortie' }), intro, el);
}

export default { id: 'discharge', label: 'Avis de sortie', nav: false, render };
