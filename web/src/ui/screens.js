// The screens before the logged-in page, in French: "Inscrire ce
// navigateur" (from an invite), "Déverrouiller" (later visits); once logged
// in, ui/shell.js shows the views. <html data-screen> names the screen shown.
import { h, field, facts, show, statusLine, paint } from './dom.js';
import { Connection, sameOriginUrl } from '../net/client.js';
import { frenchError } from '../net/errors.js';
import {
  enrol, login, ownFingerprint, normaliseInvite, deviceNameValid, PASSPHRASE_MIN, PASSPHRASE_MAX,
} from '../account.js';
import {
  deviceInvite, openIdentity, accountFingerprint, enrolDevice, enrolNewIdentity, restoreSessions,
  NO_BACKUP,
} from '../device_add.js';
import { wipe } from '../crypto/index.js';
import { loadRecord, openRecord } from '../store/keystore.js';
import * as session from '../store/session.js';
import { startShell, stopShell } from './shell.js';

let conn = null;

function disconnect() {
  if (conn) conn.close();
  conn = null;
}

function message(e) {
  return e && e.code ? e.message : frenchError('protocol', String(e && e.message));
}

function dateFr(ms) {
  return typeof ms === 'number' ? new Date(ms).toLocaleString('fr-FR') : null;
}

const ROLES = { member: 'membre', discharge: 'équipe de sortie', coordinator: 'coordination', admin: 'administration' };

// ---- Inscrire ce navigateur ---------------------------------------------------

export function enrolScreen() {
  const status = statusLine();
  const code = field('Code d’invitation', {
    name: 'invite', autocomplete: 'off', spellcheck: 'false', required: true,
    'data-testid': 'invite-code',
  }, '24 lettres et chiffres, par exemple 7K2M-QX9D-4T1B-ZR8W-0CFE-N5HJ');
  const check = h('button', { type: 'submit', text: 'Vérifier l’invitation' });
  const who = h('section', { 'aria-labelledby': 'who-title', hidden: true });
  const form = h('form', {
    novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      const canonical = normaliseInvite(code.input.value);
      if (!canonical) {
        status.error('Ce code d’invitation n’a pas la bonne forme\u00a0: il a 24 lettres et chiffres, ' +
          'vérifiez-le (bad_request).');
        code.input.focus();
        return;
      }
      check.disabled = true;
      status.info('Vérification de l’invitation…');
      try {
        disconnect();
        conn = await Connection.open(sameOriginUrl());
        const info = await conn.request('invite_info', { code: canonical });
        status.clear();
        showInvite(who, info, canonical, status);
      } catch (e) {
        status.error(message(e));
      } finally {
        check.disabled = false;
      }
    },
  }, code.el, h('p', {}, check));
  show('enrol',
    h('h1', { text: 'Inscrire ce navigateur' }),
    h('p', { text: 'Votre administrateur vous a remis un code d’invitation. Ce navigateur deviendra ' +
      'l’un de vos appareils\u00a0: ses clés y sont gardées, chiffrées par votre phrase de passe.' }),
    form, status.el, who);
}

// The device name and the new passphrase typed twice: the fields and their
// checks (the CLI's rules), for a first enrolment and for a further device.
function deviceFields(passHint) {
  const name = field('Nom de cet appareil', {
    name: 'device-name', value: 'Navigateur', required: true, maxlength: '64', autocomplete: 'off',
  }, 'Montré dans la liste de vos appareils, par exemple «\u00a0poste du service\u00a0».');
  const pass1 = field('Phrase de passe', {
    type: 'password', name: 'passphrase', required: true, autocomplete: 'new-password',
    minlength: String(PASSPHRASE_MIN), 'data-testid': 'passphrase',
  }, passHint);
  const pass2 = field('Phrase de passe, encore une fois', {
    type: 'password', name: 'passphrase2', required: true, autocomplete: 'new-password',
    'data-testid': 'passphrase2',
  });
  return { name, pass1, pass2 };
}

/** The first problem of the three fields as [field, message] (pass2 emptied when they differ), or null. */
function deviceFormProblem(name, pass1, pass2) {
  const dn = name.input.value.trim();
  if (!deviceNameValid(dn)) {
    return [name, 'Le nom de l’appareil est vide ou trop long\u00a0: donnez 1 à 64 caractères (bad_request).'];
  }
  if ([...pass1.input.value].length < PASSPHRASE_MIN) {
    return [pass1, `La phrase de passe est trop courte\u00a0: choisissez-en une d’au moins ${PASSPHRASE_MIN} caractères.`];
  }
  if (new TextEncoder().encode(pass1.input.value).length > PASSPHRASE_MAX) {
    return [pass1, `La phrase de passe est trop longue\u00a0: ${PASSPHRASE_MAX} octets au plus.`];
  }
  if (pass1.input.value !== pass2.input.value) {
    pass2.input.value = '';
    return [pass2, 'Les deux phrases de passe diffèrent\u00a0: saisissez la même deux fois.'];
  }
  return null;
}

function showInvite(section, info, code, status) {
  const org = info.org || {};
  const title = h('h2', { id: 'who-title', text: 'Cette invitation est pour' });
  const list = facts([
    ['Nom', info.name, { field: 'name' }],
    ['RPPS', info.rpps, { field: 'rpps' }],
    ['Profession', info.profession_label || info.profession, { field: 'profession' }],
    ['Organisation', org.name, { field: 'org' }],
    ['Rôles', (info.roles || []).map((r) => ROLES[r] || r).join(', '), { field: 'roles' }],
    ['Expire le', dateFr(info.expires_at), { field: 'expires' }],
  ], { 'data-testid': 'invite-info' });
  if (info.user) {
    deviceInviteForm(section, title, list, info, code, status);
    return;
  }
  const { name, pass1, pass2 } = deviceFields(`Au moins ${PASSPHRASE_MIN} caractères. Elle chiffre vos clés dans ce navigateur\u00a0; ` +
    'elle ne quitte jamais ce poste et personne ne peut la retrouver si vous l’oubliez.');
  const go = h('button', { type: 'submit', text: 'Inscrire ce navigateur' });
  const form = h('form', {
    novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      const problem = deviceFormProblem(name, pass1, pass2);
      if (problem) {
        status.error(problem[1]);
        problem[0].input.focus();
        return;
      }
      const dn = name.input.value.trim();
      go.disabled = true;
      status.info('Création et chiffrement de vos clés…');
      await paint();
      let record = null;
      try {
        if (!conn || conn.closed) conn = await Connection.open(sameOriginUrl());
        const made = await enrol(conn, code, dn, pass1.input.value);
        record = made.record;
        const { secrets } = made;
        pass1.input.value = '';
        pass2.input.value = '';
        // the enrolment connection is not logged in: a fresh one with its own challenge
        disconnect();
        conn = await Connection.open(sameOriginUrl());
        session.unlock(secrets, lockedScreen);
        const who = await login(conn, record, session.key('dk'));
        sessionScreen(record, who);
      } catch (e) {
        session.lock(null);
        if (record) {
          // enrolled and stored, but the first login failed: the invite is
          // spent, so the way on is to unlock, not to enrol again
          disconnect();
          unlockScreen(record, `Ce navigateur est inscrit, mais la connexion a échoué. ${message(e)}`);
          return;
        }
        go.disabled = false;
        status.error(message(e));
      }
    },
  }, name.el, pass1.el, pass2.el, h('p', {}, go));
  section.replaceChildren(title, list, h('p', {
    text: 'Si ce n’est pas vous, arrêtez ici et prévenez votre administrateur.' }), form);
  section.hidden = false;
}

// ---- Ajouter ce navigateur à un compte existant (device invite) ----------------------
// As `liaison enrol --recovery-code` (client/cli/cmd_enrol.c; device_add.js):
// the recovery code opens the account's identity key from the key backup in
// the page (a wrong code costs no request, the invite stays valid), then the
// device name and a new passphrase, enrol under that identity key, login,
// and the conversation keys of the backup restored into the vault.


function deviceInviteForm(section, title, list, info, code, status) {
  const lead = h('p', { text: 'Cette invitation ajoute ce navigateur comme un appareil de plus à votre ' +
    'compte existant\u00a0: vos autres appareils restent actifs. Si ce n’est pas vous, arrêtez ici et ' +
    'prévenez votre administrateur.' });
  if (info.new_identity) {
    newIdentityForm(section, title, list, info, code, status);
    return;
  }
  let inv;
  try {
    inv = deviceInvite(info);
  } catch (e) {
    section.replaceChildren(title, list, h('p', { role: 'alert', class: 'error', text: message(e) }));
    section.hidden = false;
    return;
  }
  if (!inv.blob) {
    section.replaceChildren(title, list, lead, h('p', { role: 'alert', class: 'error',
      'data-testid': 'no-backup', text: NO_BACKUP }));
    section.hidden = false;
    return;
  }
  const rcode = field('Code de récupération', {
    name: 'recovery-code', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters',
    required: true, 'data-testid': 'recovery-code',
  }, '56 lettres et chiffres en 14 groupes de 4. C’est le code affiché une seule fois quand la ' +
    'sauvegarde des clés de votre compte a été créée («\u00a0liaison backup setup\u00a0», ou à votre ' +
    'première inscription avec la ligne de commande), que vous avez noté ou imprimé et rangé à part. ' +
    'Majuscules, tirets et espaces sont sans importance.');
  const open = h('button', { type: 'submit', text: 'Ouvrir la sauvegarde' });
  const step2 = h('div', { hidden: true });
  const form1 = h('form', {
    novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      open.disabled = true;
      status.info('Ouverture de la sauvegarde des clés…');
      await paint();
      let opened;
      try {
        opened = openIdentity(inv, rcode.input.value);
      } catch (e) {
        open.disabled = false;
        status.error(message(e));
        rcode.input.focus();
        return;
      }
      rcode.input.value = '';
      status.clear();
      form1.replaceChildren(h('p', { class: 'notice', role: 'status', 'data-testid': 'backup-opened' },
        'La sauvegarde est ouverte\u00a0: elle contient la clé d’identité de votre compte. ',
        'Empreinte de votre compte\u00a0: ',
        h('strong', { class: 'digits', 'data-testid': 'account-fingerprint',
          text: accountFingerprint(inv, info.rpps) }), '.'));
      deviceStep(step2, status, 'Ajouter ce navigateur', {
        async enrolWith(c, deviceName, passphrase) {
          const made = await enrolDevice(c, code, inv, opened.ikSk, deviceName, passphrase);
          wipe(opened.ikSk);
          return made;
        },
        loggedIn: (record, who) => deviceAdded(record, who, opened.rk),
        lost(record, e) {
          wipe(opened.rk);
          unlockScreen(record, `Ce navigateur est inscrit, mais la connexion a échoué. ${message(e)} ` +
            'Les clés de conversation de votre sauvegarde n’ont pas été restaurées.');
        },
      });
    },
  }, rcode.el, h('p', {}, open));
  section.replaceChildren(title, list, lead,
    h('h2', { text: 'Votre code de récupération' }), form1, step2);
  section.hidden = false;
  rcode.input.focus({ preventScroll: true });
  form1.scrollIntoView({ block: 'end' }); // the code's field, its explanation and the button in sight
}

/**
 * The device name and the new passphrase, then how: enrolWith(conn, name,
 * passphrase) → {record, secrets}; loggedIn(record, me) after the first
 * login; lost(record, error) when enrolled but that login failed.
 */
function deviceStep(step, status, label, { enrolWith, loggedIn, lost }) {
  const { name, pass1, pass2 } = deviceFields(`Au moins ${PASSPHRASE_MIN} caractères, pour ce navigateur seulement. Elle chiffre vos clés ` +
    'ici\u00a0; elle ne quitte jamais ce poste et personne ne peut la retrouver si vous l’oubliez.');
  const go = h('button', { type: 'submit', text: label });
  const form = h('form', {
    novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      const problem = deviceFormProblem(name, pass1, pass2);
      if (problem) {
        status.error(problem[1]);
        problem[0].input.focus();
        return;
      }
      go.disabled = true;
      status.info('Création et chiffrement des clés de cet appareil…');
      await paint();
      let record = null;
      try {
        if (!conn || conn.closed) conn = await Connection.open(sameOriginUrl());
        const made = await enrolWith(conn, name.input.value.trim(), pass1.input.value);
        record = made.record;
        pass1.input.value = '';
        pass2.input.value = '';
        disconnect();
        conn = await Connection.open(sameOriginUrl());
        session.unlock(made.secrets, lockedScreen);
        const who = await login(conn, record, session.key('dk'));
        loggedIn(record, who);
      } catch (e) {
        session.lock(null);
        if (record) {
          disconnect();
          lost(record, e);
          return;
        }
        go.disabled = false;
        status.error(message(e));
      }
    },
  }, name.el, pass1.el, pass2.el, h('p', {}, go));
  step.replaceChildren(h('h2', { text: 'Cet appareil' }), form);
  step.hidden = false;
  name.input.focus();
}

// liaisond user reset: the same account (user id) with a new identity key,
// as `liaison enrol` with such an invite (cmd_enrol.c, new_identity)
function newIdentityForm(section, title, list, info, code, status) {
  const step = h('div', { hidden: true });
  section.replaceChildren(title, list,
    h('p', { class: 'notice', 'data-testid': 'new-identity', text: 'Cette invitation donne une nouvelle ' +
      'identité à votre compte\u00a0: votre administrateur l’a réinitialisé après la perte de votre ' +
      'appareil. Vos collègues devront vérifier de nouveau votre numéro de sécurité, et les messages ' +
      'antérieurs ne pourront pas être lus sur ce navigateur. Si ce n’est pas vous, arrêtez ici et ' +
      'prévenez votre administrateur.' }),
    step);
  section.hidden = false;
  deviceStep(step, status, 'Inscrire ce navigateur', {
    enrolWith: (c, deviceName, passphrase) => enrolNewIdentity(c, code, info, deviceName, passphrase),
    loggedIn: (record, who) => sessionScreen(record, who),
    lost(record, e) {
      unlockScreen(record, `Ce navigateur est inscrit, mais la connexion a échoué. ${message(e)}`);
    },
  });
}

/** Logged in: the conversation keys of the backup, then the logged-in page. */
async function deviceAdded(record, me, rk) {
  const c = conn;
  const off = c.on('close', ({ code: closeCode }) => {
    wipe(rk);
    if (c === conn) session.lock(closeCode === 1008 ? 'revoked' : 'closed');
  });
  const status = statusLine();
  const result = h('p', { 'data-testid': 'restored' });
  const again = h('button', { type: 'button', hidden: true, text: 'Réessayer la restauration' });
  const next = h('button', { type: 'button', text: 'Continuer' });
  const restore = async () => {
    again.hidden = true;
    next.disabled = true;
    status.info('Restauration des clés de conversation de votre sauvegarde…');
    try {
      const n = await restoreSessions(c, record, rk);
      wipe(rk);
      status.clear();
      result.textContent = n === 0 ? 'Aucune clé de conversation à restaurer\u00a0: votre sauvegarde n’en ' +
        'contient pas encore.' : `${n} clé${n > 1 ? 's' : ''} de conversation restaurée${n > 1 ? 's' : ''} ` +
        'depuis votre sauvegarde (pour lire ici les messages antérieurs).';
      result.dataset.count = String(n);
    } catch (e) {
      status.error('Ce navigateur est inscrit, mais la restauration des clés de conversation a ' +
        `échoué\u00a0: ${message(e)} Sans elles, les messages antérieurs ne se lisent pas ici\u00a0; ` +
        'réessayez, ou continuez et lisez-les sur un autre appareil.');
      again.hidden = false;
    } finally {
      next.disabled = false;
    }
  };
  again.addEventListener('click', restore);
  next.addEventListener('click', () => {
    wipe(rk);
    off();
    sessionScreen(record, me);
  });
  show('device-added',
    h('h1', { text: 'Navigateur ajouté à votre compte' }),
    facts([
      ['Nom', me.user && me.user.name, { field: 'name' }],
      ['Appareil', record.device_name, { field: 'device' }],
      ['Votre empreinte', ownFingerprint(record, me.user && me.user.rpps), { field: 'fingerprint' }],
    ], { 'data-testid': 'device-added' }),
    status.el, result, h('p', {}, again, ' ', next));
  await restore();
  if (!again.hidden) again.focus();
  else next.focus();
}

// ---- Déverrouiller ------------------------------------------------------------------

export function unlockScreen(record, notice = null) {
  const status = statusLine();
  const pass = field('Phrase de passe', {
    type: 'password', name: 'passphrase', required: true, autocomplete: 'current-password',
    'data-testid': 'unlock-passphrase',
  });
  const go = h('button', { type: 'submit', text: 'Déverrouiller' });
  const form = h('form', {
    novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      go.disabled = true;
      status.info('Déverrouillage…');
      await paint();
      const secrets = openRecord(record, pass.input.value);
      pass.input.value = '';
      if (!secrets) {
        go.disabled = false;
        status.error(frenchError('bad_passphrase'));
        pass.input.focus();
        return;
      }
      session.unlock(secrets, lockedScreen);
      try {
        disconnect();
        conn = await Connection.open(sameOriginUrl());
        const who = await login(conn, record, session.key('dk'));
        sessionScreen(record, who);
      } catch (e) {
        session.lock(null);
        disconnect();
        go.disabled = false;
        status.error(message(e));
      }
    },
  }, pass.el, h('p', {}, go));
  show('unlock',
    h('h1', { text: 'Déverrouiller' }),
    notice ? h('p', { class: 'notice', role: 'status', text: notice }) : null,
    h('p', {}, 'Ce navigateur est inscrit comme l’appareil «\u00a0', record.device_name,
      '\u00a0». Saisissez votre phrase de passe pour ouvrir vos clés.'),
    form, status.el);
}

function lockedScreen(reason) {
  stopShell();
  disconnect();
  loadRecord().then((record) => {
    if (!record) {
      enrolScreen();
      return;
    }
    const notices = {
      idle: `Verrouillé après ${Math.round(session.IDLE_LOCK_MS / 60000)} minutes sans activité\u00a0: vos clés ont été effacées de la mémoire.`,
      revoked: `Verrouillé\u00a0: ${frenchError('device_revoked')}`,
      closed: `Verrouillé\u00a0: ${frenchError('network')} Déverrouillez pour vous reconnecter.`,
    };
    unlockScreen(record, notices[reason] || 'Verrouillé\u00a0: vos clés ont été effacées de la mémoire.');
  });
}

// ---- Session ------------------------------------------------------------------------

function sessionScreen(record, me) {
  // keys are held only while connected: a revocation (close code 1008) or a
  // lost connection locks, and unlocking reconnects
  const c = conn;
  c.on('close', ({ code }) => {
    if (c === conn) session.lock(code === 1008 ? 'revoked' : 'closed');
  });
  startShell(c, record, me);
}

/** The first screen: unlock when this browser holds a device, else enrol. */
export async function start() {
  let record = null;
  try {
    record = await loadRecord();
  } catch {
    show('error', h('h1', { text: 'Liaison' }), h('p', { role: 'alert', text: frenchError('storage_local') }));
    return;
  }
  if (record) unlockScreen(record);
  else enrolScreen();
  // the first usable screen (bench/web_first_screen.sh reads this mark)
  performance.mark('liaison-first-screen');
}
