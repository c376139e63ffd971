// One thread ("#/thread/<channel>"): the channel's state as the CLI's
// `liaison read` prints it (kind, topic, members, membership alarms,
// INVALID and why, identity-key warnings, a departure), then the messages:
// sender's name (or "message non vérifié (le serveur dit de X)" and why it
// is not shown), time, content (ui/message_kinds.js), history shared by,
// a missing predecessor, receipts ("lu par …", "remis à …"), the missing
// seqs and truncated ranges between them; then the composer (Ctrl+Entrée
// sends). Messages are rendered in pages of PAGE, the newest first; older
// pages are added when the top of the list comes into view (or with the
// button), so a thread of thousands stays responsive. Live: new messages,
// statuses and receipts update in place without reload.
import { h, statusLine } from './dom.js';
import { renderContent } from './message_kinds.js';
import { composerAttach } from './attach_ui.js';
import { openThread, threadModel, subscribe, sendContent, markSeen, closeThread, engine, receiptUsers,
  applyReceipt } from '../core/index.js';
import { KIND_FR, HISTORY_FR, threadTitle } from '../core/texts.js';

export const PAGE = 50;
const fmt = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeStyle: 'short' });
const when = (ms) => (ms ? fmt.format(new Date(ms)) : '');

function gapNode(g, eng) {
  if (g.kind === 'seq') {
    const text = g.seq === g.through ? `le message n° ${g.seq} manque : retenu ou supprimé par le serveur`
      : `les messages n° ${g.seq} à n° ${g.through} manquent : retenus ou supprimés par le serveur`;
    return h('p', { class: 'gap', 'data-gap': 'seq', 'data-from': g.seq, 'data-to': g.through, text });
  }
  if (g.kind === 'truncated') {
    const text = g.seq === g.through
      ? `le message n° ${g.seq}, que cet appareil avait, n'est plus sur le serveur : supprimé par le serveur`
      : `les messages n° ${g.seq} à n° ${g.through}, que cet appareil avait, ne sont plus sur le serveur : supprimés par le serveur`;
    return h('p', { class: 'gap', 'data-gap': 'truncated', 'data-from': g.seq, 'data-to': g.through, text });
  }
  return null; // 'link': shown inside the message
}

function receiptText(eng, r) {
  const parts = [];
  if (r.readBy.length) parts.push(`lu par ${r.readBy.map((u) => eng.person(u)).join(', ')}`);
  if (r.deliveredTo.length) parts.push(`remis à ${r.deliveredTo.map((u) => eng.person(u)).join(', ')}`);
  return parts.join(' ; ');
}

function messageNode(eng, ctx, m, receipts, gaps) {
  const ok = m.status === 'ok';
  let content = null;
  if (m.plain) {
    try {
      content = JSON.parse(m.plain);
    } catch {
      content = null;
    }
  }
  const who = eng.person(m.sender_user);
  const r = receiptUsers(receipts, m);
  const rtext = receiptText(eng, r);
  const head = h('p', { class: 'meta' },
    h('span', { class: 'seq', text: `n° ${m.seq}` }), ' ',
    h('time', { datetime: new Date(m.ts).toISOString(), text: when(m.ts) }), ' ',
    ok ? h('span', { class: 'who', text: who })
      : h('span', { class: 'who unverified', text: `message non vérifié (le serveur dit de ${who})` }));
  const body = content && ok ? renderContent(content, m, ctx)
    : h('p', { class: 'body refused', 'data-detail': m.detail || m.status,
      text: `[déchiffrement impossible : ${m.detail_fr || m.status}]` });
  const notes = [];
  if (ok && m.detail_fr) notes.push(h('p', { class: 'warn', text: m.detail_fr }));
  if (ok && m.shared && m.shared_by) notes.push(h('p', { class: 'hint', text: `(historique partagé par ${eng.person(m.shared_by)})` }));
  if (m.prev_missing) {
    notes.push(h('p', { class: 'warn', 'data-link-missing': '1',
      text: `ATTENTION : un message de ${who} envoyé avant celui-ci manque : retenu ou supprimé par le serveur` }));
  }
  if (rtext) notes.push(h('p', { class: 'receipts', text: `✓ ${rtext}` }));
  const article = h('article', { class: `msg${ok ? '' : ' msg-refused'}${m.sender_user === eng.meHex ? ' mine' : ''}`,
    'data-seq': m.seq, 'data-status': m.status, 'data-sender': m.sender_user, 'data-read-by': r.readBy.join(' '),
    'data-delivered-to': r.deliveredTo.join(' ') }, head, body, notes);
  const block = h('div', { class: 'block', 'data-block': m.seq },
    (gaps.get(m.seq) || []).map((g) => gapNode(g, eng)), article);
  return block;
}

function headerNodes(eng, model) {
  const out = [];
  const v = model.view;
  const rec = model.rec;
  const kind = (v && v.kind) || rec.kind;
  const history = (v && v.history) || rec.history;
  if (kind) out.push(h('p', { class: 'hint', text: `Fil ${KIND_FR[kind] || kind}, historique ${HISTORY_FR[history] || history || '—'}` }));
  for (const a of model.alarms) {
    if (a.state === 'active') {
      out.push(h('p', { class: 'alarm', role: 'alert', 'data-alarm': a.source,
        text: `ALARME : ${a.text_fr} (constaté le ${when(a.raised_at)}). Le serveur cache peut-être un retrait : aucune ` +
          'clé n’est partagée dans ce canal tant qu’il ne montre pas de nouveau ce changement. Prévenez votre administrateur.' }));
    } else {
      out.push(h('p', { class: 'notice', 'data-alarm': 'cleared',
        text: `Alarme de membres, levée : ${a.text_fr} (constaté le ${when(a.raised_at)} ; le serveur a de nouveau ` +
          `montré ce changement le ${when(a.cleared_at)}).` }));
    }
  }
  if (v && !v.valid && !v.alarm) {
    out.push(h('p', { class: 'alarm', role: 'alert', 'data-invalid': '1',
      text: `INVALIDE : ${v.reason}. Aucune clé n'est partagée dans ce canal.` }));
  }
  if (v && v.valid && v.state.members.length) {
    out.push(h('p', { class: 'members', 'data-testid': 'members' }, 'Membres : ',
      v.state.members.map((m) => `${eng.person(m.user)}${m.role === 'admin' ? ' [admin]' : ''}`).join(', ')));
  }
  if (v && v.myDeparture && !v.meMember) {
    const d = v.myDeparture;
    out.push(h('p', { class: 'notice', text: d.action === 'leave'
      ? `Vous avez quitté ce canal le ${when(d.ts)} : les messages envoyés ensuite ne vous sont pas accessibles.`
      : `Vous avez été retiré de ce canal par ${eng.person(d.actorHex)} le ${when(d.ts)} : les messages envoyés ensuite ne vous sont pas accessibles.` }));
  }
  if (v) {
    for (const m of v.state.members) {
      const pr = eng.peers.get(m.user);
      if (!pr || pr.trusted) continue;
      out.push(h('p', { class: 'warn', text: pr.me ? 'ATTENTION : le serveur montre une autre clé d’identité pour votre ' +
        'propre compte ; prévenez votre administrateur.' : `ATTENTION : la clé d'identité de ${eng.person(m.user)} a changé : ` +
        'rien ne lui est partagé tant que vous n’avez pas comparé le numéro de sécurité.' }));
    }
  }
  return out;
}

function titleOf(eng, model) {
  return threadTitle({ topic: model.rec.topic, others: (model.rec.members || []).filter((u) => u !== eng.meHex) },
    (u) => eng.name(u));
}

async function render(ctx, arg) {
  const ch = typeof arg === 'string' && /^[0-9a-f]{32}$/.test(arg) ? arg : null;
  if (!ch) return h('section', {}, h('h1', { text: 'Fil' }), h('p', { role: 'alert', text: 'Ce fil n’existe pas.' }));
  const eng = engine(ctx);
  const status = statusLine();
  let model;
  try {
    model = await openThread(ctx, ch);
  } catch (e) {
    status.error(e.message || String(e));
    return h('section', {}, h('h1', { text: 'Fil' }), status.el, h('p', {}, h('a', { href: '#/threads', text: 'Retour aux fils' })));
  }
  const title = h('h1', { text: titleOf(eng, model) });
  const header = h('div', { class: 'thread-head' });
  const list = h('div', { class: 'messages', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages du fil',
    tabindex: '0', 'data-testid': 'messages' });
  const older = h('button', { type: 'button', class: 'secondary older', text: 'Afficher les messages précédents' });
  const empty = h('p', { class: 'hint empty', text: 'Aucun message pour l’instant.' });
  const endGaps = h('div', { class: 'end-gaps' });
  const rendered = new Map(); // seq -> block
  let firstShown = Infinity; // the lowest seq rendered
  let busy = false;

  const ta = h('textarea', { id: 'composer', rows: '3', maxlength: '32768', 'aria-describedby': 'composer-hint' });
  const send = h('button', { type: 'submit', text: 'Envoyer' });
  const form = h('form', { class: 'composer' },
    h('label', { for: 'composer', text: 'Votre message' }), ta,
    h('small', { id: 'composer-hint', text: 'Ctrl+Entrée envoie. Le message est chiffré dans ce navigateur.' }),
    h('p', {}, send), status.el);
  form.append(composerAttach(ctx, ch, { disabled: !model.view || !model.view.meMember }));

  function atBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }

  // a message's block is built again only when what it shows changed
  function keyOf(m, gaps) {
    const r = receiptUsers(model.receipts, m);
    return `${m.status}|${m.detail}|${m.prev_missing}|${m.plain ? m.plain.length : 0}|${r.readBy.join(',')}|` +
      `${r.deliveredTo.join(',')}|${(gaps.get(m.seq) || []).length}`;
  }

  function draw(m, gaps) {
    const key = keyOf(m, gaps);
    const old = rendered.get(m.seq);
    if (old && old.dataset.key === key) return old;
    const node = messageNode(eng, ctx, m, model.receipts, gaps);
    node.dataset.key = key;
    if (old) old.replaceWith(node);
    rendered.set(m.seq, node);
    return node;
  }

  function paint(keepBottom) {
    const stick = keepBottom || atBottom();
    header.replaceChildren(...headerNodes(eng, model));
    title.textContent = titleOf(eng, model);
    const msgs = model.msgs;
    if (firstShown === Infinity) firstShown = msgs.length > PAGE ? msgs[msgs.length - PAGE].seq : (msgs[0] ? msgs[0].seq : 1);
    const frag = [];
    for (const m of msgs) {
      if (m.seq < firstShown) continue;
      const had = rendered.has(m.seq);
      const node = draw(m, model.gaps);
      if (!had) frag.push(node);
    }
    if (frag.length) list.insertBefore(fragOf(frag), endGaps);
    older.hidden = !msgs.some((m) => m.seq < firstShown);
    empty.hidden = msgs.length > 0;
    endGaps.replaceChildren(...(model.gaps.get(Infinity) || []).map((g) => gapNode(g, eng)));
    if (stick) list.scrollTop = list.scrollHeight;
    list.dataset.shown = String(rendered.size);
    list.dataset.total = String(msgs.length);
    const last = msgs.length ? msgs[msgs.length - 1].seq : 0;
    if (last && document.visibilityState === 'visible') markSeen(ctx, ch, Math.max(last, model.rec.last_seq)).catch(() => {});
  }

  function fragOf(nodes) {
    const f = document.createDocumentFragment();
    for (const n of nodes) f.append(n);
    return f;
  }

  function showOlder() {
    if (busy) return;
    const msgs = model.msgs;
    const idx = msgs.findIndex((m) => m.seq >= firstShown);
    if (idx <= 0) return;
    busy = true;
    const from = Math.max(0, idx - PAGE);
    const nodes = msgs.slice(from, idx).map((m) => draw(m, model.gaps));
    const before = list.scrollHeight;
    const top = list.scrollTop;
    list.insertBefore(fragOf(nodes), rendered.get(msgs[idx].seq));
    firstShown = msgs[from].seq;
    list.scrollTop = top + (list.scrollHeight - before);
    older.hidden = from === 0;
    list.dataset.shown = String(rendered.size);
    busy = false;
  }
  older.addEventListener('click', () => {
    showOlder();
  });
  const io = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) setTimeout(showOlder, 0);
  }, { root: list, rootMargin: '400px 0px 0px 0px' });
  io.observe(older);

  list.append(older, empty, endGaps);

  let pending = null;
  async function refresh() {
    if (pending) return;
    pending = (async () => {
      try {
        const fresh = await threadModel(ctx, ch);
        model = { ...fresh, receipts: eng.receipts.get(ch) || model.receipts };
        paint(false);
      } finally {
        pending = null;
      }
    })();
  }
  ctx.on('close', () => closeThread(ctx, ch));
  const off = subscribe(ctx, (c) => {
    if (!list.isConnected) {
      off();
      closeThread(ctx, ch);
      return;
    }
    if (c.type === 'receipt' && c.channel === ch) {
      applyReceipt(model.receipts, c);
      paint(false);
    } else if ((c.type === 'messages' || c.type === 'channel') && (c.channel === ch || c.channel === null)) {
      refresh();
    } else if (c.type === 'keys') {
      refresh();
    }
  });

  let sending = 0;
  async function submit() {
    const text = ta.value.replace(/\n+$/, '');
    if (!text.trim()) {
      status.error('Le message est vide : écrivez un texte avant d’envoyer.');
      ta.focus();
      return;
    }
    if (new TextEncoder().encode(text).length > 32768) {
      status.error('Le message dépasse 32 768 octets : envoyez les documents en pièce jointe.');
      return;
    }
    // the composer is free at once: the next message can be typed (and
    // sent: sends are queued, in order) while this one is encrypted
    ta.value = '';
    sending++;
    status.info('Chiffrement et envoi…');
    try {
      const r = await sendContent(ctx, ch, { type: 'text', body: text });
      if (sending === 1) status.info(`Message n° ${r.seq} envoyé.`);
      list.scrollTop = list.scrollHeight; // the new message is shown by the 'messages' change
    } catch (e) {
      if (!ta.value) ta.value = text; // given back, to send again
      status.error(e.message || String(e));
    } finally {
      sending--;
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  ta.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submit();
    }
  });
  if (!model.view || !model.view.meMember) {
    ta.disabled = true;
    send.disabled = true;
  }

  const section = h('section', { class: 'thread', 'data-channel': ch },
    h('p', { class: 'back' }, h('a', { href: '#/threads', text: '← Tous les fils' })),
    title, header, list, form);
  requestAnimationFrame(() => paint(true));
  paint(true);
  return section;
}

export default { id: 'thread', label: 'Fil', nav: false, render };
