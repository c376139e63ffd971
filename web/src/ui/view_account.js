// "Mon compte": who is logged in on this browser (name, RPPS, profession,
// organisation, device) and the user's fingerprint (CRYPTO.md §2), one half
// of the safety number a colleague sees.
import { h, facts } from './dom.js';
import { ownFingerprint } from '../account.js';
import * as session from '../store/session.js';

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
      'minutes sans activité.' }));
}

export default { id: 'account', label: 'Mon compte', render };
