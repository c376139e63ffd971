// "Vérifier un collègue" (#/verify, and #/verify/<user hex> for one
// colleague, the link other views use): the safety number of the pair
// (CRYPTO.md §2) exactly as `liaison verify` shows it (client/cli/
// cmd_verify.c: my fingerprint from my user id, my RPPS as the server gave it
// at login and the IK this browser holds; theirs from the `keys` reply's IK
// and RPPS; 12 groups of 5 digits, two lines of 6), a QR code of those same
// 71 characters for comparison in person, and the state of the colleague's
// pinned identity key (store/pins.js, trust on first use): verified (and
// when), not verified, or CHANGED — an alarm, and accepting the new key
// takes comparing the new number, as `liaison verify --accept`.
import { h, field, facts, statusLine } from './dom.js';
import { fingerprint, safetyNumber, fromHex, fromB64 } from '../crypto/index.js';
import { LiaisonError } from '../net/client.js';
import * as pins from '../store/pins.js';

const ID_RE = /^[0-9a-f]{32}$/;
const SEARCH_LIMIT = 20;
const people = new Map(); // user hex -> USER of a directory reply (names, for the page only)

function when(ms) {
  return typeof ms === 'number' ? new Date(ms).toLocaleString('fr-FR') : '—';
}

function errorText(e) {
  return e && e.code ? e.message : `Erreur inattendue\u00a0: ${String(e && e.message)} (protocol).`;
}

function personLine(u) {
  const org = (u.org || {}).name;
  return [u.profession_label || u.profession, org, u.rpps ? `RPPS ${u.rpps}` : null].filter(Boolean).join(' · ');
}

// ---- the search -------------------------------------------------------------

function searchView(ctx) {
  const status = statusLine();
  const q = field('Nom ou numéro RPPS', {
    type: 'search', name: 'q', autocomplete: 'off', spellcheck: 'false', required: true,
    'data-testid': 'verify-search',
  }, 'Une partie du nom, ou le début du numéro RPPS.');
  const results = h('ul', { class: 'people', 'data-testid': 'verify-results', 'aria-label': 'Résultats' });
  const go = h('button', { type: 'submit', text: 'Rechercher' });
  const form = h('form', {
    role: 'search',
    novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      const text = q.input.value.trim();
      if (!text) {
        status.error('Saisissez une partie du nom ou du numéro RPPS de votre collègue.');
        q.input.focus();
        return;
      }
      go.disabled = true;
      status.info('Recherche…');
      try {
        const reply = await ctx.conn.request('directory_search', { q: text, limit: SEARCH_LIMIT });
        const users = (Array.isArray(reply.users) ? reply.users : [])
          .filter((u) => u && typeof u.id === 'string' && ID_RE.test(u.id));
        for (const u of users) people.set(u.id, u);
        results.replaceChildren(...users.map((u) => h('li', {},
          u.id === ctx.record.user
            ? h('span', { text: `${u.name} (vous)` })
            : h('a', { href: `#/verify/${u.id}`, 'data-user': u.id, text: u.name }),
          h('span', { class: 'hint', text: ` ${personLine(u)}` }))));
        if (users.length === 0) status.info('Personne ne correspond à cette recherche.');
        else status.info(users.length === 1 ? '1 personne trouvée.' : `${users.length} personnes trouvées.`);
      } catch (e) {
        status.error(errorText(e));
      } finally {
        go.disabled = false;
      }
    },
  }, q.el, h('p', {}, go));
  return h('section', { 'data-testid': 'verify-search-view' },
    h('h1', { text: 'Vérifier un collègue' }),
    h('p', { text: 'Le numéro de sécurité confirme que vous et votre collègue détenez les vraies clés ' +
      'l’un de l’autre, et non celles d’un tiers qui se serait glissé entre vous. Cherchez votre ' +
      'collègue, puis comparez le numéro avec lui, en personne ou au téléphone.' }),
    form, status.el, results);
}

// ---- one colleague ------------------------------------------------------------

/** The USER of a colleague: from a search of this page, else the directory by RPPS; null if not found. */
async function person(ctx, user, rpps) {
  if (people.has(user)) return people.get(user);
  if (!rpps) return null;
  try {
    const reply = await ctx.conn.request('directory_search', { q: rpps, limit: 100 });
    const u = (reply.users || []).find((x) => x && x.id === user) || null;
    if (u) people.set(user, u);
    return u;
  } catch {
    return null;
  }
}

/** The safety number (71 characters) of this browser's user and the colleague, or '' (malformed RPPS). */
export function pairNumber(record, myRpps, user, rpps, ik) {
  const mine = fingerprint(fromHex(record.user), myRpps || '', record.ik_pk);
  const theirs = fingerprint(fromHex(user), rpps || '', ik);
  if (mine.length !== 30 || theirs.length !== 30) return '';
  return safetyNumber(fromHex(record.user), mine, fromHex(user), theirs);
}

function numberBlock(number) {
  // the CLI's two lines of six groups; the text content is the 71 characters
  return h('p', { class: 'safety-number digits', 'data-testid': 'safety-number' },
    h('span', { text: number.slice(0, 35) }), ' ', h('span', { text: number.slice(36) }));
}

function stateBlock(pin, name) {
  if (pin.changed_ik) {
    return h('div', { class: 'alarm', role: 'alert', 'data-testid': 'pin-state', 'data-state': 'changed' },
      h('p', {}, h('strong', { text: 'Attention\u00a0: la clé d’identité de ce collègue a changé.' })),
      h('p', { text: `Le serveur montre pour ${name} une clé d’identité qui n’est plus celle que ce navigateur ` +
        `connaissait (vue le ${when(pin.pinned_at)}, changée le ${when(pin.changed_at)}). Cela arrive quand ` +
        'ce collègue a perdu son seul appareil et que l’administrateur lui a donné une nouvelle identité — ' +
        'ou quand quelqu’un essaie de se faire passer pour lui.' }),
      h('p', { text: 'Vos clés de conversation ne sont plus partagées avec lui tant que vous n’avez pas ' +
        'comparé avec lui le nouveau numéro de sécurité ci-dessous et confirmé qu’il est identique.' }));
  }
  if (pin.verified) {
    return h('p', { class: 'verified', 'data-testid': 'pin-state', 'data-state': 'verified' },
      h('strong', { text: 'Vérifié' }), ` le ${when(pin.verified_at)}\u00a0: vous avez comparé ce numéro ` +
      'avec lui.');
  }
  return h('p', { class: 'notice', 'data-testid': 'pin-state', 'data-state': 'unverified' },
    h('strong', { text: 'Non vérifié' }), '\u00a0: sa clé d’identité est celle que le serveur a montrée ' +
    `la première fois (le ${when(pin.pinned_at)}). Comparez le numéro ci-dessous avec lui.`);
}

async function userView(ctx, arg) {
  const user = String(arg).toLowerCase();
  const back = h('p', {}, h('a', { href: '#/verify', text: 'Chercher un autre collègue' }));
  if (!ID_RE.test(user)) {
    throw new LiaisonError('bad_request', 'Ce lien ne désigne pas un utilisateur (32 caractères hexadécimaux ' +
      'attendus)\u00a0: cherchez votre collègue par son nom (bad_request).');
  }
  if (user === ctx.record.user) {
    return h('section', {}, h('h1', { text: 'Vérifier un collègue' }),
      h('p', { role: 'alert', class: 'error', text: 'C’est vous\u00a0: vérifiez un autre utilisateur. ' +
        'Votre empreinte est dans «\u00a0Mon compte\u00a0».' }), back);
  }
  let entry;
  try {
    const reply = await ctx.conn.request('keys', { users: [user] });
    entry = (reply.users || []).find((u) => u && u.user === user);
  } catch (e) {
    if (e.code === 'not_found') {
      throw new LiaisonError('not_found', 'Le serveur ne connaît pas cet utilisateur\u00a0: vérifiez le lien ' +
        'ou cherchez votre collègue par son nom (not_found).');
    }
    throw e;
  }
  let ik = null;
  try {
    ik = entry ? fromB64(entry.ik) : null;
  } catch {
    ik = null;
  }
  if (!ik || ik.length !== 32) {
    throw new LiaisonError('protocol', 'Le serveur a envoyé une clé d’identité inutilisable pour cet ' +
      'utilisateur\u00a0: prévenez votre administrateur (protocol).');
  }
  const rpps = typeof entry.rpps === 'string' ? entry.rpps : null;
  const number = pairNumber(ctx.record, ctx.me.user.rpps, user, rpps, ik);
  if (number.length !== 71) {
    throw new LiaisonError('protocol', 'Impossible de calculer un numéro de sécurité pour cet utilisateur ' +
      '(numéro RPPS mal formé)\u00a0: prévenez votre administrateur (protocol).');
  }
  // qrcode-generator (about 40 kB) is loaded with this page only, not with the first screen
  const { qrSvg } = await import('./qr.js');
  const pin = await pins.observe(user, rpps, ik);
  const who = await person(ctx, user, rpps);
  const name = who ? who.name : `l’utilisateur ${user.slice(0, 8)}`;
  const status = statusLine();
  const differ = h('div', { class: 'alarm', role: 'alert', hidden: true, 'data-testid': 'numbers-differ' },
    h('p', {}, h('strong', { text: 'Les numéros diffèrent\u00a0: n’échangez rien avec ce collègue dans ' +
      'Liaison pour l’instant.' })),
    h('ul', {},
      h('li', { text: 'Appelez-le à un numéro que vous connaissez déjà (pas un numéro reçu par message) ' +
        'et comparez de nouveau, chacun sur son écran.' }),
      h('li', { text: 'S’ils diffèrent encore, prévenez votre administrateur\u00a0: quelqu’un a peut-être ' +
        'remplacé la clé de votre collègue, ou la vôtre, sur le serveur.' }),
      h('li', { text: 'Ne confirmez pas tant que les 60 chiffres ne sont pas identiques.' })));
  const actions = [];
  if (!pin.verified || pin.changed_ik) {
    const same = h('button', {
      type: 'button',
      text: 'Les numéros sont identiques',
      onclick: async () => {
        same.disabled = true;
        try {
          await pins.accept(user, ik, true);
          ctx.go('verify', user);
        } catch (e) {
          same.disabled = false;
          status.error(errorText(e));
        }
      },
    });
    const notSame = h('button', {
      type: 'button', class: 'secondary', text: 'Ils diffèrent',
      onclick: () => {
        differ.hidden = false;
        differ.setAttribute('tabindex', '-1');
        differ.focus();
      },
    });
    actions.push(h('p', { class: 'actions' }, same, ' ', notSame));
  }
  return h('section', { 'data-testid': 'verify-user', 'data-user': user },
    h('h1', { text: `Vérifier ${name}` }),
    who ? facts([
      ['Nom', who.name, { field: 'name' }],
      ['Profession', who.profession_label || who.profession, { field: 'profession' }],
      ['Organisation', (who.org || {}).name, { field: 'org' }],
      ['RPPS', who.rpps, { field: 'rpps' }],
    ]) : null,
    stateBlock(pin, name),
    h('h2', { text: 'Numéro de sécurité' }),
    h('div', { class: 'verify-compare' },
      h('div', {},
        numberBlock(number),
        h('p', { text: 'Votre collègue voit les mêmes 60 chiffres de son côté («\u00a0Vérifier un ' +
          'collègue\u00a0» dans son navigateur, ou «\u00a0liaison verify\u00a0»). Comparez-les en ' +
          'personne, ou au téléphone si vous reconnaissez sa voix — jamais par un message.' }),
        h('p', { class: 'hint', text: 'En personne, il peut aussi lire ce code QR avec l’appareil photo ' +
          'de son téléphone\u00a0: il contient exactement ces 60 chiffres, à comparer avec son écran.' })),
      h('figure', { class: 'qr-figure' },
        qrSvg(number, `Code QR du numéro de sécurité ${number}`),
        h('figcaption', { text: 'Le numéro de sécurité, en code QR' }))),
    actions, differ, status.el, back);
}

async function render(ctx, arg) {
  if (arg === null || arg === undefined || arg === '') return searchView(ctx);
  return userView(ctx, arg);
}

export default { id: 'verify', label: 'Vérifier un collègue', render };
