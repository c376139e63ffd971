// The thread list ("#/threads", the home view): every channel this user is
// or was a member of (`channels`), with its topic (decrypted here: the
// server holds none), its case (reference and pathway, from `cases`) or its
// members' names, its kind, how many messages
// arrived since this browser last showed it, and its last activity; new
// messages update the list live. Below, "Nouveau fil": a topic, the kind,
// the history policy and colleagues found in the directory, created as
// `liaison channel create` then `liaison channel add` do it (core/index.js
// createThread).
import { h, statusLine, field } from './dom.js';
import { threadList, refreshThreads, subscribe, searchPeople, createThread, engine } from '../core/index.js';
import { KIND_FR, threadTitle } from '../core/texts.js';
import * as cases from '../core/cases.js';
import { notify } from './notify.js';

const fmt = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeStyle: 'short' });

/** channel → « Dossier P-… · pathway » for the user's case threads (one `cases` request). */
async function caseNames(conn) {
  try {
    const [pw, r] = await Promise.all([cases.pathways(conn), cases.listCases(conn, {})]);
    return new Map((r.cases || []).map((c) =>
      [c.channel, `Dossier ${c.patient_ref} · ${cases.pathwayLabel(pw, c.pathway)}`]));
  } catch {
    return new Map(); // the list still shows, with members' names
  }
}

function item(eng, t, named) {
  const unread = t.unread > 0 ? h('span', { class: 'unread', 'data-unread': t.unread,
    text: `${t.unread} non lu${t.unread > 1 ? 's' : ''}` }) : null;
  return h('li', { class: `thread-item${t.unread ? ' has-unread' : ''}`, 'data-channel': t.channel, 'data-unread': t.unread },
    h('a', { href: `#/thread/${t.channel}`, class: 'thread-link' },
      h('span', { class: 'name', text: threadTitle({ ...t, caseName: named.get(t.channel) },
        (u) => eng.name(u)) }), unread),
    h('span', { class: 'hint' }, `${KIND_FR[t.kind] || t.kind || ''}${t.member ? '' : ' · ancien membre'}` +
      `${t.valid === false ? ' · INVALIDE' : ''}`,
    t.last_ts ? ` · ${fmt.format(new Date(t.last_ts))}` : ''));
}

function createForm(ctx, eng) {
  const status = statusLine();
  const topic = field('Sujet du fil', { name: 'topic', maxlength: '500', autocomplete: 'off' },
    'Chiffré dans ce navigateur : le serveur ne le voit pas.');
  const kind = h('select', { id: 'new-kind' },
    ['team', 'case', 'direct', 'circle'].map((k) => h('option', { value: k, text: KIND_FR[k] })));
  const history = h('select', { id: 'new-history' },
    h('option', { value: 'shared', text: 'partagé avec les nouveaux membres' }),
    h('option', { value: 'from_join', text: 'à partir de leur arrivée seulement' }));
  const q = field('Rechercher un collègue', { name: 'q', autocomplete: 'off' }, 'Nom ou début du RPPS');
  const searchBtn = h('button', { type: 'button', class: 'secondary', text: 'Rechercher' });
  const results = h('fieldset', { class: 'people' }, h('legend', { text: 'Membres à ajouter' }));
  const chosen = new Map();
  const resultList = h('ul', { class: 'people-list', 'data-testid': 'people' });
  results.append(resultList);
  async function search() {
    const text = q.input.value.trim();
    if (!text) {
      status.error('Tapez un nom ou un RPPS à rechercher.');
      return;
    }
    status.info('Recherche…');
    try {
      const users = (await searchPeople(ctx, text)).filter((u) => u.id !== eng.meHex);
      for (const li of [...resultList.children]) if (!chosen.has(li.dataset.user)) li.remove();
      for (const u of users) {
        if (chosen.has(u.id)) continue;
        const id = `pick-${u.id}`;
        const box = h('input', { type: 'checkbox', id, value: u.id });
        box.addEventListener('change', () => {
          if (box.checked) chosen.set(u.id, u);
          else chosen.delete(u.id);
        });
        const org = u.org && u.org.name ? ` — ${u.org.name}` : '';
        resultList.append(h('li', { 'data-user': u.id }, box, h('label', { for: id,
          text: `${u.name} — ${u.profession_label || u.profession}${org}${u.rpps ? ` (RPPS ${u.rpps})` : ''}` })));
      }
      status.info(users.length ? `${users.length} personne(s) trouvée(s) : cochez celles à ajouter.`
        : 'Personne ne correspond dans l’annuaire.');
    } catch (e) {
      status.error(e.message);
    }
  }
  searchBtn.addEventListener('click', search);
  q.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      search();
    }
  });
  const create = h('button', { type: 'submit', text: 'Créer le fil' });
  const form = h('form', { class: 'new-thread', 'aria-labelledby': 'new-thread-title' },
    h('h2', { id: 'new-thread-title', text: 'Nouveau fil' }),
    topic.el,
    h('p', { class: 'field' }, h('label', { for: 'new-kind', text: 'Type de fil' }), kind),
    h('p', { class: 'field' }, h('label', { for: 'new-history', text: 'Historique' }), history),
    q.el, h('p', {}, searchBtn), results, h('p', {}, create), status.el);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (kind.value === 'direct' && chosen.size !== 1) {
      status.error('Un fil direct réunit exactement deux personnes : cochez un seul collègue.');
      return;
    }
    create.disabled = true;
    status.info('Création du fil, signature et partage des clés…');
    try {
      const ch = await createThread(ctx, { kind: kind.value, history: history.value, topic: topic.input.value.trim(),
        members: [...chosen.keys()] });
      ctx.go('thread', ch);
    } catch (err) {
      status.error(err.message);
      create.disabled = false;
    }
  });
  return form;
}

async function render(ctx) {
  const eng = engine(ctx);
  const status = statusLine();
  const ul = h('ul', { class: 'threads', 'data-testid': 'threads' });
  let list = [];
  // case names are asked again when a case thread appears, or (at most every
  // 10 s) while one has no case yet (discharge opens it just after the
  // thread) — not at every message
  let named = new Map();
  let asked = '';
  let askedAt = 0;
  async function load() {
    list = await threadList(ctx);
    const caseThreads = list.filter((t) => t.kind === 'case').map((t) => t.channel);
    const key = caseThreads.slice().sort().join(',');
    const unnamed = caseThreads.some((ch) => !named.has(ch));
    if (key !== asked || (unnamed && Date.now() - askedAt >= 10000)) {
      named = await caseNames(ctx.conn);
      asked = key;
      askedAt = Date.now();
    }
    ul.replaceChildren(...list.map((t) => item(eng, t, named)));
    if (!list.length) ul.append(h('li', { class: 'hint', text: 'Aucun fil pour l’instant : créez-en un ci-dessous.' }));
    ul.dataset.loaded = String(Date.now());
  }
  try {
    await load();
  } catch (e) {
    status.error(e.message);
  }
  let timer = null;
  const off = subscribe(ctx, (c) => {
    if (!ul.isConnected) {
      off();
      return;
    }
    if (c.type === 'messages' || c.type === 'channel') {
      clearTimeout(timer);
      timer = setTimeout(() => load().catch((e) => status.error(e.message)), 150);
    }
  });
  ctx.on('close', off);
  // topics and new counts: fetch the channels with messages not yet synced here
  refreshThreads(ctx, list).catch((e) => status.error(e.message));
  return h('section', { class: 'threads-view' },
    h('h1', { text: 'Messages' }), status.el, ul, createForm(ctx, eng));
}

/**
 * From login to lock: a colleague's message arriving live is said by the
 * browser's Notification API (ui/notify.js: "Nouveau message", never the
 * thread or its text) when the tab is in the background.
 */
function watch(ctx) {
  return subscribe(ctx, (e) => {
    if (e.type === 'incoming') notify('Nouveau message', 'Un nouveau message est arrivé dans Liaison.');
  });
}

export default { id: 'threads', label: 'Messages', render, watch };
