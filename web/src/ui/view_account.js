// "Mon compte": who is logged in on this browser (name, RPPS, profession,
// organisation, device) and the user's fingerprint (CRYPTO.md §2), one half
// of the safety number a colleague sees; and whether the server e-mails
// the user when something waits (ops mail_status / mail_set, PROTOCOL.md
// "E-mail when something waits"): the user's own choice, as `liaison mail`.
import { h, facts, statusLine } from './dom.js';
import { frenchError } from '../net/errors.js';
import { ownFingerprint } from '../account.js';
import * as session from '../store/session.js';

const frenchTime = (ms) => new Date(ms).toLocaleString('fr-FR', { dateStyle: 'long', timeStyle: 'short' });

/** What the e-mails do for this user, in one sentence (MAIL of PROTOCOL.md). */
function mailSentence(mail) {
  if (!mail.relay) return 'Ce serveur n’envoie pas d’e-mail (aucun relais SMTP n’est configuré).';
  if (!mail.address) {
    return 'Aucune adresse e-mail n’est enregistrée pour vous : demandez à l’administrateur de ' +
      'Liaison de l’ajouter si vous voulez être prévenu.';
  }
  if (!mail.enabled) return 'Vous ne recevez pas d’e-mail quand quelque chose vous attend.';
  return `Quand un avis, une alerte ou une étape vous attend sans avoir été vu, vous recevez un ` +
    `e-mail à ${mail.address}, au plus un par période. Il dit seulement que quelque chose vous ` +
    'attend, avec le lien : jamais le patient, le dossier ni le texte.';
}

/** The « E-mails » section: the state from the server and a switch. */
function mailSection(ctx) {
  const status = statusLine();
  const sentence = h('p', { 'data-testid': 'mail-sentence' });
  const last = h('p', { class: 'hint', 'data-testid': 'mail-last' });
  const box = h('input', { type: 'checkbox', id: 'mail-enabled', disabled: true });
  const section = h('section', { 'aria-labelledby': 'mail-title', 'data-testid': 'mail' },
    h('h2', { id: 'mail-title', text: 'E-mails' }),
    h('p', { class: 'field checkbox' }, box,
      h('label', { for: 'mail-enabled', text: 'M’écrire quand quelque chose m’attend dans Liaison' })),
    sentence, last, status.el);
  const showMail = (mail) => {
    box.checked = !!mail.enabled;
    box.disabled = false;
    section.dataset.enabled = mail.enabled ? 'on' : 'off';
    sentence.textContent = mailSentence(mail);
    last.textContent = mail.last_sent_at ? `Dernier e-mail : ${frenchTime(mail.last_sent_at)}.` : '';
  };
  box.addEventListener('change', async () => {
    const wanted = box.checked;
    box.disabled = true;
    status.clear();
    try {
      const mail = await ctx.conn.request('mail_set', { enabled: wanted });
      showMail(mail);
      status.info(wanted ? 'E-mails activés.' : 'E-mails désactivés.');
    } catch (e) {
      box.checked = !wanted;
      box.disabled = false;
      status.error(e && e.code ? e.message : frenchError('protocol', String(e && e.message)));
    }
  });
  ctx.conn.request('mail_status', {}).then(showMail, (e) => {
    status.error(e && e.code ? e.message : frenchError('protocol', String(e && e.message)));
  });
  return section;
}

function render(ctx) {
  const { user, device } = ctx.me;
  const org = user.org || {};
  return h('section', {},
    h('h1', { text: 'Mon compte' }),
    facts([
      ['Nom', user.name, { field: 'name' }],
      ['RPPS', user.rpps, { field: 'rpps' }],
      ['Profession', user.profession_label || user.profession, { field: 'profession' }],
      ['Organisation', org.name, { field: 'org' }],
      ['Appareil', device.name, { field: 'device' }],
      ['Votre empreinte', ownFingerprint(ctx.record, user.rpps), { field: 'fingerprint' }],
    ], { 'data-testid': 'whoami', 'data-user': user.id }),
    h('p', { text: 'Vos collègues peuvent comparer cette empreinte avec le numéro de sécurité que ' +
      '«\u00a0liaison verify\u00a0» leur montre.' }),
    h('p', { class: 'hint', text: `Ce navigateur se verrouille seul après ${Math.round(session.IDLE_LOCK_MS / 60000)} ` +
      'minutes sans activité.' }),
    mailSection(ctx));
}

export default { id: 'account', label: 'Mon compte', render };
