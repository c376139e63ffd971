// TEST-ONLY view "#/attach_lab/<channel>" (not in the navigation): the
// attachment control and the "file" message renderer of ui/attach_ui.js on
// their own, before and beside the thread view. A file uploaded here is
// listed below as the "file" message it would become (no message is sent);
// a "file" content in JSON (e.g. from `liaison read --json`) can be shown
// to download it. Used by tests/integration/web_attach.mjs.
import { h, field, statusLine } from './dom.js';
import { attachControl, renderFile } from './attach_ui.js';

function render(ctx, arg) {
  const channel = /^[0-9a-f]{32}$/.test(arg || '') ? arg : null;
  const list = h('div', { class: 'attach-lab-files', 'data-testid': 'lab-files' });
  if (!channel) {
    const status = statusLine();
    status.error('Ce salon n’existe pas\u00a0: ouvrez #/attach_lab/<identifiant du salon> (bad_request).');
    return h('section', {}, h('h1', { text: 'Essai des pièces jointes' }), status.el);
  }
  const control = attachControl(ctx, channel, {
    onContent: async (content) => { list.prepend(renderFile(ctx, content)); },
  });
  const json = h('textarea', { id: 'lab-json', rows: '3' });
  const status = statusLine();
  const show = h('button', { type: 'button', text: 'Afficher ce fichier', onclick: () => {
    let content;
    try {
      content = JSON.parse(json.value);
    } catch {
      status.error('Ce n’est pas du JSON\u00a0: collez le contenu d’un message «\u00a0file\u00a0» (bad_json).');
      return;
    }
    status.clear();
    list.prepend(renderFile(ctx, content));
  } });
  return h('section', {},
    h('h1', { text: 'Essai des pièces jointes' }),
    h('p', { class: 'hint', text: 'Page d’essai : aucun message n’est envoyé.' }),
    control.el,
    h('p', { class: 'field' }, h('label', { for: 'lab-json', text: 'Contenu d’un message «\u00a0file\u00a0» (JSON)' }),
      json), show, status.el,
    h('h2', { text: 'Fichiers' }), list);
}

export default { id: 'attach_lab', label: 'Essai des pièces jointes', nav: false, render };
