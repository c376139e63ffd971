// How each kind of decrypted message is shown in a thread (the CLI's
// thread_view.c print_content). KINDS maps a plaintext's `type` to
// render(content, msg, ctx) -> Node; view_thread.js calls it for every
// readable message. Text enters through textContent only (dom.js h()).
// Other views register their kinds here with one line each, e.g.
//   KINDS.file = renderFile;
// A type nobody registered is shown as "Message de type X (pas encore
// affiché dans le navigateur)".
//
//   msg: {seq, ts, sender_user, status, …} (core/thread.js), ctx: the view's ctx
import { h } from './dom.js';
import { fileKind } from './attach_ui.js'; // "file": name, size, Télécharger

function text(content) {
  const body = typeof content.body === 'string' ? content.body : '';
  return h('p', { class: 'body text', text: body }); // white-space: pre-wrap keeps the lines
}

function topic(content) {
  return h('p', { class: 'body topic' }, 'Sujet fixé\u00a0: ',
    h('strong', { text: typeof content.topic === 'string' ? content.topic : '' }));
}

export const KINDS = {
  text,
  topic,
};
KINDS.file = fileKind;

/** The node for a readable message's content, whatever its type. */
export function renderContent(content, msg, ctx) {
  const type = content && typeof content.type === 'string' ? content.type : '?';
  const fn = Object.prototype.hasOwnProperty.call(KINDS, type) ? KINDS[type] : null;
  if (fn) {
    try {
      return fn(content, msg, ctx);
    } catch {
      return h('p', { class: 'body unknown', text: `Message de type ${type} mal formé : il n'est pas affiché.` });
    }
  }
  return h('p', { class: 'body unknown', text: `Message de type ${type} (pas encore affiché dans le navigateur)` });
}

import { renderNotice, renderMeasurement, renderAlert } from './kinds_care.js'; // care messages (forms)
Object.assign(KINDS, { discharge_notice: renderNotice, measurement: renderMeasurement, alert: renderAlert });
