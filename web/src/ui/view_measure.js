// "Mesure" (#/measure/<casehex>): a member records a structured measurement
// in a case (docs/PATHWAYS.md, "Measurements and alerts"), as `liaison
// measure` does: the value checked with the CLI's ranges and messages
// (forms/measure.js) as the user leaves each field and again on "Enregistrer";
// the measurement sent as an encrypted message of the case thread; the
// thresholds of the case's template version (op `pathways`) evaluated here
// over the case's measurements this browser decrypts; and for each kind
// crossed, op `alert` with the kind only (never the value): the first on the
// measurement's message, each further one on a short alert message of its
// own. The server's answer is shown ("alerte envoyée à N personnes").
import { h, statusLine } from './dom.js';
import { idemKey } from '../net/client.js';
import * as M from '../forms/measure.js';
import { formatDay, today } from '../forms/discharge.js';
import { sendCare, caseMessages } from './kinds_care.js';

const HEX = /^[0-9a-f]{32}$/;
let seq = 0;

function labelled(label, input, hint = null) {
  const id = input.id || `m${++seq}`;
  input.id = id;
  const err = h('p', { class: 'field-error', id: `${id}-err`, hidden: true });
  const hintEl = hint ? h('small', { id: `${id}-hint`, text: hint }) : null;
  return { input, err, hintId: hint ? `${id}-hint` : null,
    el: h('div', { class: 'field' }, h('label', { for: id, text: label }), input, hintEl, err) };
}

function mark(c, message) {
  c.err.textContent = message || '';
  c.err.hidden = !message;
  const ids = [c.hintId, message ? c.err.id : null].filter(Boolean).join(' ');
  if (ids) c.input.setAttribute('aria-describedby', ids);
  else c.input.removeAttribute('aria-describedby');
  if (message) c.input.setAttribute('aria-invalid', 'true');
  else c.input.removeAttribute('aria-invalid');
}

// The value controls of each kind; fields() gives what argsOf() reads.
function valueControls(kind) {
  const unit = (m) => (M.unitOf(m) ? ` (${M.unitOf(m)})` : '');
  const text = (label, measure, hint) => labelled(`${label}${unit(measure)}`,
    h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', 'data-measure': measure }), hint);
  if (kind === 'nyha') {
    const c = labelled('Classe NYHA', h('select', { 'data-measure': 'nyha' }, h('option', { value: '', text: '— choisir —' }),
      ['I', 'II', 'III', 'IV'].map((v) => h('option', { value: v, text: v }))));
    return { list: [c], fields: () => ({ value: c.input.value }), owner: () => c };
  }
  if (kind === 'bp') {
    const s = text('Pression systolique', 'systolic', 'de 50 à 300');
    const d = text('Pression diastolique', 'diastolic', 'de 20 à 200, inférieure à la systolique');
    const r = text('Fréquence cardiaque', 'heart_rate', 'de 20 à 250');
    return {
      list: [s, d, r],
      fields: () => ({ systolic: s.input.value, diastolic: d.input.value, rate: r.input.value }),
      // which control a message is about
      owner: (why) => (why.startsWith('pression artérielle') && why.includes('diastolique doit') ? d
        : why.startsWith('pression systolique') || why.startsWith('pression artérielle') ? s
          : why.startsWith('pression diastolique') ? d : r),
    };
  }
  if (kind === 'phq9') {
    const items = Array.from({ length: 9 }, (_, i) => labelled(`Réponse ${i + 1}`,
      h('select', { 'data-item': String(i + 1) }, h('option', { value: '', text: '—' }),
        ['0', '1', '2', '3'].map((v) => h('option', { value: v, text: v })))));
    return {
      list: items,
      fields: () => ({ items: items.map((c) => c.input.value) }),
      owner: (why) => {
        const m = /^réponse (\d) du PHQ-9/.exec(why);
        return items[m ? Number(m[1]) - 1 : 0];
      },
    };
  }
  const hints = { weight: 'de 20 à 350, p. ex. 82,5', potassium: 'de 1 à 10, p. ex. 5,8', creatinine: 'de 10 à 3000' };
  const c = text(M.KIND_INFO[kind].label, kind, hints[kind]);
  return { list: [c], fields: () => ({ value: c.input.value }), owner: () => c };
}

function thresholdWords(t) {
  const amount = M.formatMilli(t.amountMilli).replace('.', ',');
  const unit = M.unitOf(t.measure) ? ` ${M.unitOf(t.measure)}` : '';
  const rule = { above: `> ${amount}${unit}`, at_least: `≥ ${amount}${unit}`, below: `< ${amount}${unit}`,
    rise: `hausse ≥ ${amount}${unit} en ${t.days} jour${t.days > 1 ? 's' : ''}` }[t.rule];
  return `${M.wordsOf(t.measure)} ${rule}`;
}

async function render(ctx, arg) {
  const status = statusLine();
  const title = h('h1', { text: 'Saisir une mesure' });
  if (!arg || !HEX.test(arg)) {
    status.error('Dossier inconnu : ouvrez la saisie depuis la page du dossier (bad_request)');
    return h('section', {}, title, status.el);
  }
  const [got, pw] = await Promise.all([ctx.conn.request('case_get', { case: arg }), ctx.conn.request('pathways')]);
  const kase = got.case;
  const members = got.members || [];
  const tpl = M.caseTemplate(pw, kase);
  const thresholds = M.thresholdsOf(tpl);
  const intro = h('p', { text: `Dossier ${kase.patient_ref} · parcours ${kase.pathway} (version ` +
    `${kase.template_version}). La mesure est chiffrée pour les membres du fil ; si elle franchit un seuil du ` +
    'parcours, l’alerte prévenant les personnes concernées ne transmet au serveur que son type, jamais la valeur.' });
  if (!got.member) {
    status.error(`Vous n’êtes pas membre du fil du dossier ${kase.patient_ref} : seuls ses membres enregistrent des ` +
      'mesures (demandez à l’un de ses administrateurs de vous ajouter)');
    return h('section', {}, title, intro, status.el);
  }
  if (kase.status !== 'open') {
    status.error('Dossier clos : on n’y enregistre plus de mesure (case_closed)');
    return h('section', {}, title, intro, status.el);
  }
  // the kinds with a threshold of this pathway first
  const watched = new Set(thresholds.flatMap((t) => M.KINDS.filter((k) => M.KIND_INFO[k].measures.includes(t.measure))));
  const kinds = [...M.KINDS.filter((k) => watched.has(k)), ...M.KINDS.filter((k) => !watched.has(k))];
  const kindSel = labelled('Type de mesure', h('select', { id: `m${++seq}` },
    kinds.map((k) => h('option', { value: k, text: `${M.KIND_INFO[k].label}${watched.has(k) ? ' — seuil d’alerte du parcours' : ''}` }))));
  const at = labelled('Date de la mesure', h('input', { type: 'text', placeholder: 'AAAA-MM-JJ', autocomplete: 'off' }),
    'AAAA-MM-JJ ; aujourd’hui par défaut, jamais dans le futur');
  at.input.value = formatDay(today());
  const valuesBox = h('fieldset', { class: 'measure-values' }, h('legend', { text: 'Valeur' }));
  let vc = null;
  const touched = new Set();

  // the check of the CLI: --at first, then the values; returns {ok, m} and marks the fields
  function check(all = false) {
    for (const c of [at, ...vc.list]) mark(c, null);
    const when = M.parseAt(at.input.value.trim(), today());
    if (!when.ok) {
      if (all || touched.has(at)) mark(at, when.why);
      return { ok: false, first: at };
    }
    const r = M.parseMeasurement(kindSel.input.value, M.argsOf(kindSel.input.value, vc.fields()), when.day);
    if (!r.ok) {
      const c = vc.owner(r.why);
      if (all || vc.list.some((x) => touched.has(x))) mark(c, r.why);
      return { ok: false, first: c };
    }
    return r;
  }
  function showKind() {
    vc = valueControls(kindSel.input.value);
    touched.clear();
    for (const c of vc.list) watch(c);
    valuesBox.replaceChildren(h('legend', { text: `Valeur : ${M.KIND_INFO[kindSel.input.value].help}` }),
      h('div', { class: vc.list.length === 9 ? 'phq9-items' : 'measure-row' }, vc.list.map((c) => c.el)));
  }
  // checked once typed in, or left with a value (tabbing through says nothing yet)
  function watch(c) {
    c.input.addEventListener('input', () => { c.dirty = true; });
    c.input.addEventListener('change', () => { c.dirty = true; });
    c.input.addEventListener('blur', () => {
      if (c.dirty || c.input.value !== '') touched.add(c);
      check();
    });
  }
  kindSel.input.addEventListener('change', showKind);
  watch(at);
  showKind();

  const rules = thresholds.length ? h('ul', { class: 'hint' }, thresholds.map((t) =>
    h('li', { text: `${thresholdWords(t)} → ${M.kindLabel(tpl, t.kind)} (${t.kind})` })))
    : h('p', { class: 'hint', text: 'Ce parcours n’a aucun seuil d’alerte sur les mesures.' });
  const result = h('div', { 'data-testid': 'measure-result' });
  const submit = h('button', { type: 'submit', text: 'Enregistrer la mesure' });
  const form = h('form', { novalidate: true }, kindSel.el, at.el, valuesBox, status.el, submit);
  const nameOf = new Map(members.map((m) => [m.user, m.name]));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = check(true);
    if (!r.ok) {
      status.error('La mesure n’est pas valide : corrigez le champ signalé. Rien n’a été envoyé.');
      r.first.input.focus();
      return;
    }
    submit.disabled = true;
    status.info('Chiffrement et envoi de la mesure…');
    let sent = 0;
    const alerts = [];
    let kindsCrossed = [];
    try {
      // the series as the thread has it, then this entry
      const series = M.seriesOf(await caseMessages(ctx, kase.channel), kase.case);
      sent = await sendCare(ctx, kase.channel, M.encodeMeasurement(r.m, kase.case));
      const pts = [...series.pts, ...M.pointsOf(r.m, sent)];
      kindsCrossed = M.evaluate(thresholds, pts, sent);
      for (const [k, kind] of kindsCrossed.entries()) {
        const on = k === 0 ? sent : await sendCare(ctx, kase.channel, M.alertContent({ caseHex: kase.case,
          patientRef: kase.patient_ref, template: tpl, kind, measurementSeq: sent }));
        const reply = await ctx.conn.request('alert', { idem: idemKey(), case: kase.case, seq: on, kind });
        alerts.push({ kind, on, notified: reply.notified, users: reply.users || [] });
      }
    } catch (err) {
      submit.disabled = false;
      const missing = kindsCrossed.filter((k) => !alerts.some((a) => a.kind === k));
      status.error(sent && missing.length ? `La mesure a été publiée (message n° ${sent}) mais l’alerte ` +
        `${missing[0]} n’a pas été levée : appelez les personnes qu’elle désigne (${M.kindRoles(tpl, missing[0])}). ` +
        `${err.message}` : err.message);
      return;
    }
    submit.disabled = false;
    const words = M.entryFrench(r.m);
    const raised = alerts.map((a) => ` Alerte ${a.kind} envoyée à ${a.notified} personne${a.notified > 1 ? 's' : ''}.`);
    status.info(`Mesure publiée dans le dossier ${kase.patient_ref} (message n° ${sent}) : ${words} le ` +
      `${formatDay(r.m.day)}.${raised.join('')}`);
    result.replaceChildren(
      h('p', { 'data-field': 'measurement', text: `${words} le ${formatDay(r.m.day)} — message n° ${sent}` }),
      alerts.length === 0 ? h('p', { 'data-field': 'no-alert', text: `Aucun seuil de ${kase.pathway} franchi.` })
        : h('ul', { class: 'alerts' }, alerts.map((a) => {
          const names = a.users.map((u) => nameOf.get(u) || 'un coordinateur de la CPTS');
          return h('li', { 'data-alert': a.kind, class: 'alert-sent' },
            `Seuil franchi : ${M.kindLabel(tpl, a.kind)} (${a.kind}) — alerte envoyée à ${a.notified} ` +
            `personne${a.notified > 1 ? 's' : ''}${names.length ? ` : ${names.join(', ')}` : ''} (message n° ${a.on}).`,
            a.notified === 0 ? h('span', { class: 'error', text: ` Aucune personne ayant le rôle ` +
              `${M.kindRoles(tpl, a.kind)} n’est dans le fil de ce dossier : ajoutez-la au fil, ou appelez-la.` }) : null);
        })));
    for (const c of vc.list) c.input.value = '';
    touched.clear();
    result.scrollIntoView({ block: 'nearest' });
  });
  return h('section', {}, title, intro, h('h2', { text: 'Seuils d’alerte du parcours' }), rules, form, result);
}

export default { id: 'measure', label: 'Mesure', nav: false, render };
