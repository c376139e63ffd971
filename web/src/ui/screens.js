// The screens before the logged-in page, in French: "Inscrire ce
// navigateur" (from an invite), "Déverrouiller" (later visits); once logged
// in, ui/shell.js shows the views. <html data-screen> names the screen shown.
import { h, field, facts, show, statusLine, paint } from './dom.js';
import { Connection, sameOriginUrl } from '../net/client.js';
import { frenchError } from '../net/errors.js';
import {
  enrol, login, normaliseInvite, deviceNameValid, PASSPHRASE_MIN, PASSPHRASE_MAX,
} from '../account.js';
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
    // a device invite: adding this browser to an existing account needs the
    // recovery code and the key backup, not built in the browser yet
    section.replaceChildren(title, list, h('p', { role: 'alert', class: 'error', text:
      'Cette invitation ajoute un appareil à un compte existant\u00a0: ce navigateur ne sait pas encore ' +
      'le faire. Utilisez «\u00a0liaison enrol --recovery-code\u00a0» sur un ordinateur.' }));
    section.hidden = false;
    return;
  }
  const name = field('Nom de cet appareil', {
    name: 'device-name', value: 'Navigateur', required: true, maxlength: '64', autocomplete: 'off',
  }, 'Montré dans la liste de vos appareils, par exemple «\u00a0poste du service\u00a0».');
  const pass1 = field('Phrase de passe', {
    type: 'password', name: 'passphrase', required: true, autocomplete: 'new-password',
    minlength: String(PASSPHRASE_MIN), 'data-testid': 'passphrase',
  }, `Au moins ${PASSPHRASE_MIN} caractères. Elle chiffre vos clés dans ce navigateur\u00a0; ` +
    'elle ne quitte jamais ce poste et personne ne peut la retrouver si vous l’oubliez.');
  const pass2 = field('Phrase de passe, encore une fois', {
    type: 'password', name: 'passphrase2', required: true, autocomplete: 'new-password',
    'data-testid': 'passphrase2',
  });
  const go = h('button', { type: 'submit', text: 'Inscrire ce navigateur' });
  const form = h('form', {
    novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      const dn = name.input.value.trim();
      if (!deviceNameValid(dn)) {
        status.error('Le nom de l’appareil est vide ou trop long\u00a0: donnez 1 à 64 caractères (bad_request).');
        name.input.focus();
        return;
      }
      if ([...pass1.input.value].length < PASSPHRASE_MIN) {
        status.error(`La phrase de passe est trop courte\u00a0: choisissez-en une d’au moins ${PASSPHRASE_MIN} caractères.`);
        pass1.input.focus();
        return;
      }
      if (new TextEncoder().encode(pass1.input.value).length > PASSPHRASE_MAX) {
        status.error(`La phrase de passe est trop longue\u00a0: ${PASSPHRASE_MAX} octets au plus.`);
        pass1.input.focus();
        return;
      }
      if (pass1.input.value !== pass2.input.value) {
        status.error('Les deux phrases de passe diffèrent\u00a0: saisissez la même deux fois.');
        pass2.input.value = '';
        pass2.input.focus();
        return;
      }
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
