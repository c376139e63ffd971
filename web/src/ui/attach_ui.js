// Attachments on the page (core/attachments.js): the composer's "Joindre un
// fichier" control (file picker or drop, a <progress> bar with its
// percentage, "Annuler") and the renderer of a "file" message (name, size
// in French units, caption, "Télécharger" with progress, then saved through
// a Blob URL link). Text only through dom.js's h(): a file name or a
// caption never becomes markup.
import { h, statusLine } from './dom.js';
import { uploadFile, downloadFile, saveBlob, parseFile, frenchSize, checkSize } from '../core/attachments.js';
import { frenchError } from '../net/errors.js';
import { sendContent } from '../core/index.js';

function message(e) {
  return e && e.code ? e.message : frenchError('protocol', String(e && e.message));
}

/** A progress line: <label> what, <progress>, "NN %", and a cancel button; hidden when idle. */
function progressLine(cancelLabel) {
  const id = `attach-p${++progressLine.seq}`;
  const label = h('label', { for: id });
  const bar = h('progress', { id, max: '100', value: '0' });
  const pct = h('span', { class: 'attach-pct', 'aria-hidden': 'true', text: '0\u00a0%' });
  const cancel = h('button', { type: 'button', class: 'secondary', text: cancelLabel });
  const el = h('p', { class: 'attach-progress', hidden: true }, label, bar, pct, cancel);
  return {
    el, cancel,
    start(text) {
      label.textContent = text;
      bar.value = 0;
      pct.textContent = '0\u00a0%';
      el.dataset.percent = '0';
      cancel.disabled = false;
      el.hidden = false;
    },
    set(done, total) {
      const p = total > 0 ? Math.floor((done * 100) / total) : 100;
      bar.value = p;
      pct.textContent = `${p}\u00a0%`;
      el.dataset.percent = String(p);
    },
    stop() {
      cancel.disabled = true;
      el.hidden = true;
    },
  };
}
progressLine.seq = 0;

/**
 * The composer's control: "Joindre un fichier" opens the file picker (a file
 * dropped on the control works too); the file is encrypted and uploaded to
 * channel with a progress bar, then onContent(content) sends the "file"
 * message (e.g. sendContent(ctx, channel, content)); caption() gives its
 * caption. Returns {el, busy()}.
 */
export function attachControl(ctx, channel, { onContent, caption = () => '' } = {}) {
  // the picker itself stays hidden (the button opens it); its label too,
  // so that every field keeps one
  const inputId = `attach-f${++progressLine.seq}`;
  const input = h('input', { type: 'file', id: inputId, hidden: true, tabindex: '-1' });
  const inputLabel = h('label', { for: inputId, hidden: true, text: 'Fichier à joindre' });
  const button = h('button', { type: 'button', class: 'attach-button', text: 'Joindre un fichier' });
  const progress = progressLine('Annuler l’envoi');
  const status = statusLine();
  let running = null; // AbortController of the transfer in progress

  async function send(file) {
    if (running) return;
    status.clear();
    try {
      checkSize(file); // the 50 MiB cap, before anything is read
    } catch (e) {
      status.error(message(e));
      return;
    }
    running = new AbortController();
    button.disabled = true;
    progress.start(`Envoi chiffré de «\u00a0${file.name}\u00a0» (${frenchSize(file.size)})`);
    try {
      const content = await uploadFile(ctx.conn, channel, file, {
        caption: caption(), signal: running.signal, onProgress: progress.set,
      });
      progress.cancel.disabled = true;
      status.info('Fichier chiffré et déposé ; envoi du message…');
      if (onContent) await onContent(content);
      status.info(`«\u00a0${file.name}\u00a0» envoyé (${frenchSize(file.size)}).`);
    } catch (e) {
      status.error(message(e));
    } finally {
      running = null;
      progress.stop();
      button.disabled = false;
      input.value = '';
    }
  }

  button.addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    if (input.files && input.files[0]) send(input.files[0]);
  });
  progress.cancel.addEventListener('click', () => { if (running) running.abort(); });
  const el = h('div', { class: 'attach', 'data-testid': 'attach-control' }, inputLabel, input, button, progress.el, status.el);
  el.addEventListener('dragover', (e) => { e.preventDefault(); el.classList.add('drop'); });
  el.addEventListener('dragleave', () => el.classList.remove('drop'));
  el.addEventListener('drop', (e) => {
    e.preventDefault();
    el.classList.remove('drop');
    const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (f) send(f);
  });
  return { el, busy: () => running !== null };
}

/**
 * A "file" message: its caption, name and size, and "Télécharger", which
 * downloads, decrypts and checks it with a progress bar before offering it
 * for saving. A malformed content shows why it cannot be downloaded.
 */
export function renderFile(ctx, content) {
  let f;
  try {
    f = parseFile(content);
  } catch (e) {
    const status = statusLine();
    status.error(message(e));
    return h('div', { class: 'file-msg' }, status.el);
  }
  const nameId = `file-n${++progressLine.seq}`;
  const status = statusLine();
  const progress = progressLine('Annuler le téléchargement');
  const button = h('button', { type: 'button', class: 'download', 'aria-describedby': nameId, text: 'Télécharger' });
  let running = null;
  button.addEventListener('click', async () => {
    if (running) return;
    running = new AbortController();
    button.disabled = true;
    status.clear();
    progress.start(`Téléchargement de «\u00a0${f.name}\u00a0»`);
    try {
      const got = await downloadFile(ctx.conn, content, { signal: running.signal, onProgress: progress.set });
      saveBlob(got.blob, got.name);
      status.info(`«\u00a0${got.name}\u00a0» déchiffré, vérifié et enregistré (${frenchSize(got.size)}).`);
    } catch (e) {
      status.error(message(e));
    } finally {
      running = null;
      progress.stop();
      button.disabled = false;
    }
  });
  progress.cancel.addEventListener('click', () => { if (running) running.abort(); });
  return h('div', { class: 'file-msg', 'data-attachment': content.attachment },
    f.caption ? h('p', { class: 'caption', text: f.caption }) : null,
    h('p', { class: 'file-line' },
      h('span', { class: 'file-name', id: nameId, text: f.name }),
      h('span', { class: 'file-size', text: ` (${frenchSize(f.size)})` }),
      button),
    progress.el, status.el);
}

/** The "file" kind for ui/message_kinds.js: render(content, msg, ctx). */
export function fileKind(content, msg, ctx) {
  return renderFile(ctx, content);
}

/**
 * The thread composer's "Joindre un fichier" (ui/view_thread.js): the file
 * is uploaded to channel, then its "file" message is sent with
 * sendContent (core/send.js), which checks the channel and the membership
 * as for a text. disabled: not a member of the channel.
 */
export function composerAttach(ctx, channel, { disabled = false } = {}) {
  const control = attachControl(ctx, channel, {
    onContent: (content) => sendContent(ctx, channel, content),
  });
  if (disabled) control.el.querySelector('button.attach-button').disabled = true;
  return control.el;
}
