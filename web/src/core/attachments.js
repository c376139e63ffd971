// Attachments (CRYPTO.md §8, PROTOCOL.md "Attachments"), the browser's port of
// client/core/attach_io.c: a File is read in 64 KiB slices, encrypted chunk
// by chunk (crypto/attach.js) and sent with attachment_begin / put / finish,
// several puts in flight; the reverse fetches the chunks with
// attachment_get, decrypts them in order and hands back a Blob only once the
// final chunk, the hash and the size check out. Nothing but ciphertext
// leaves the browser; no plaintext is kept once the Blob exists.
//
//   const content = await uploadFile(conn, channelHex, file, {caption, onProgress, signal});
//   // content is the {"type":"file",…} of CRYPTO.md, to send with sendContent
//   const { blob, name } = await downloadFile(conn, content, {onProgress, signal});
//
// Errors are LiaisonError (net/client.js) with a French "ce qui ne va pas :
// que faire (code)" message; a cancelled transfer throws code "cancelled".
import {
  CHUNK, CHUNK_OVERHEAD, MAX_FILE, attachCtSize, attachKeygen, attachEncInit, attachDecInit,
} from '../crypto/attach.js';
import { toHex, fromHex, wipe, utf8 } from '../crypto/bytes.js';
import { lib } from '../crypto/sodium.js';
import { LiaisonError, idemKey } from '../net/client.js';

/** The CLI's cap (client/core/attach_io.c ATTACH_MAX_BYTES): 50 MiB of plaintext. */
export const MAX_BYTES = MAX_FILE;
/** Requests in flight at once during a transfer (puts or gets). */
export const WINDOW = 4;
const CHUNK_CT = CHUNK + CHUNK_OVERHEAD;

/** MIME type from the file name, the CLI's table (attach_io.c mime_of). */
export function mimeOf(name) {
  const types = {
    '.pdf': 'application/pdf', '.txt': 'text/plain', '.png': 'image/png', '.jpg': 'image/jpeg',
    '.jpeg': 'image/jpeg', '.xml': 'application/xml', '.json': 'application/json',
    '.odt': 'application/vnd.oasis.opendocument.text',
    '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  };
  const dot = String(name).lastIndexOf('.');
  return (dot >= 0 && types[String(name).slice(dot).toLowerCase()]) || 'application/octet-stream';
}

const sizeFormat = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1 });
/** A size in French units: "812 octets", "12,5 Ko", "2,4 Mo" (1 Ko = 1024 octets). */
export function frenchSize(n) {
  if (n < 1024) return `${n}\u00a0octet${n > 1 ? 's' : ''}`;
  if (n < 1024 * 1024) return `${sizeFormat.format(n / 1024)}\u00a0Ko`;
  if (n < 1024 * 1024 * 1024) return `${sizeFormat.format(n / (1024 * 1024))}\u00a0Mo`;
  return `${sizeFormat.format(n / (1024 * 1024 * 1024))}\u00a0Go`;
}

function quoted(name) {
  return `«\u00a0${name}\u00a0»`;
}

function err(code, text) {
  return new LiaisonError(code, text);
}

function checkAbort(signal, upload) {
  if (signal && signal.aborted) {
    throw err('cancelled', upload ? 'Envoi annulé\u00a0: le fichier n’a pas été envoyé (cancelled).'
      : 'Téléchargement annulé\u00a0: rien n’a été enregistré (cancelled).');
  }
}

function b64(bytes) {
  const s = lib();
  return s.to_base64(bytes, s.base64_variants.ORIGINAL);
}

function unb64(text) {
  const s = lib();
  return s.from_base64(text, s.base64_variants.ORIGINAL);
}

/** The refusal of a file above the cap, before anything is read or sent. */
export function checkSize(file) {
  if (file.size > MAX_BYTES) {
    throw err('too_large', `Le fichier ${quoted(file.name)} fait ${frenchSize(file.size)}, plus que les ` +
      `${frenchSize(MAX_BYTES)} permis\u00a0: envoyez un document plus petit (too_large).`);
  }
  if (utf8(file.name).length > 255 || file.name === '') {
    throw err('bad_request', 'Le nom du fichier est vide ou trop long (255 octets au plus)\u00a0: ' +
      'renommez-le puis réessayez (bad_request).');
  }
}

/**
 * Runs up to `window` promises made by start(i) for i = 0..count-1 and hands
 * each result to take(i, result) in order. Throws the first failure (later
 * ones are swallowed so that none goes unhandled).
 */
async function pipeline(count, window, signal, upload, start, take) {
  const queue = [];
  let next = 0;
  const launch = () => {
    while (next < count && queue.length < window) {
      const p = start(next++);
      p.catch(() => {}); // awaited below in order; never an unhandled rejection
      queue.push(p);
    }
  };
  for (let i = 0; i < count; i++) {
    checkAbort(signal, upload);
    launch();
    const result = await queue.shift();
    checkAbort(signal, upload);
    await take(i, result);
  }
}

/** Reads bytes [start, end) of the file; the CLI's error if the file changed. */
async function readSlice(file, start, end) {
  let buf;
  try {
    buf = new Uint8Array(await file.slice(start, end).arrayBuffer());
  } catch {
    buf = null;
  }
  if (!buf || buf.length !== end - start) {
    throw err('file_changed', `Le fichier ${quoted(file.name)} ne peut plus être lu (il a changé ` +
      'pendant l’envoi)\u00a0: choisissez-le à nouveau (file_changed).');
  }
  return buf;
}

/**
 * Encrypts and uploads file (a File or Blob with a name) to channel (hex);
 * resolves with the "file" content of CRYPTO.md (without channel and
 * sender, which the message layer adds). onProgress(done, total) after each
 * chunk the server acknowledged; signal (AbortSignal) cancels. A cancelled
 * or failed upload is left unfinished: the server deletes it after
 * attachment_unfinished_ttl (PROTOCOL.md).
 */
export async function uploadFile(conn, channel, file, {
  caption = '', onProgress = () => {}, signal = null, window = WINDOW,
} = {}) {
  checkSize(file); // before reading anything
  checkAbort(signal, true);
  const size = file.size;
  const chunks = Math.max(1, Math.ceil(size / CHUNK));
  const id = new Uint8Array(16);
  crypto.getRandomValues(id);
  const attachment = toHex(id);
  const key = attachKeygen();
  try {
    const enc = attachEncInit(key, id);
    try {
      await conn.request('attachment_begin', {
        idem: idemKey(), attachment, channel, size: attachCtSize(size), chunks,
      });
    } catch (e) {
      // a file just under 50 MiB whose ciphertext (17 bytes more a chunk)
      // passes the server's attachment_max, and the user's storage_quota
      if (e.code === 'too_large') {
        throw err('too_large', `Le fichier ${quoted(file.name)} (${frenchSize(size)}) dépasse, une fois ` +
          'chiffré, la taille que ce serveur accepte\u00a0: envoyez un document plus petit (too_large).');
      }
      if (e.code === 'storage_quota') {
        throw err('storage_quota', 'Vos pièces jointes occupent déjà tout l’espace que le serveur vous ' +
          'accorde\u00a0: demandez à votre administrateur d’augmenter votre quota (storage_quota).');
      }
      throw e;
    }
    let done = 0;
    onProgress(0, size);
    // encryption is sequential (one secretstream); the puts overlap
    const encrypted = async (i) => {
      const start = i * CHUNK;
      const end = Math.min(size, start + CHUNK);
      const plain = await readSlice(file, start, end);
      const ct = enc.push(plain, i === chunks - 1);
      wipe(plain);
      return { ct, n: end - start };
    };
    let reading = Promise.resolve();
    await pipeline(chunks, window, signal, true, (i) => {
      // each put starts once its chunk (and every earlier one) is encrypted
      const step = reading.then(() => encrypted(i));
      reading = step.then(() => {}, () => {});
      return step.then(({ ct, n }) => conn.request('attachment_put', {
        idem: idemKey(), attachment, index: i, data: b64(ct),
      }).then(() => n));
    }, (i, n) => {
      done += n;
      onProgress(done, size);
    });
    const hash = enc.hash();
    await conn.request('attachment_finish', { idem: idemKey(), attachment, hash: b64(hash) });
    return {
      type: 'file', attachment, name: file.name, mime: mimeOf(file.name), size, chunks,
      key: b64(key), header: b64(enc.header), hash: b64(hash), caption: String(caption),
    };
  } finally {
    wipe(key);
  }
}

/**
 * The fields of a "file" content the download needs, checked as the CLI's
 * parse_file does (attach_io.c); throws bad_json if one is missing or wrong.
 */
export function parseFile(content) {
  const c = content && typeof content === 'object' ? content : {};
  const bytes = (field, n) => {
    try {
      const b = unb64(c[field]);
      return b.length === n ? b : null;
    } catch {
      return null;
    }
  };
  const int = (v, lo, hi) => Number.isInteger(v) && v >= lo && v <= hi;
  const out = {
    id: typeof c.attachment === 'string' && /^[0-9a-f]{32}$/.test(c.attachment) ? fromHex(c.attachment) : null,
    key: bytes('key', 32), header: bytes('header', 24), hash: bytes('hash', 32),
    size: c.size, chunks: c.chunks, name: c.name,
    mime: typeof c.mime === 'string' ? c.mime : 'application/octet-stream',
    caption: typeof c.caption === 'string' ? c.caption : '',
  };
  if (!out.id || !out.key || !out.header || !out.hash || !int(c.size, 0, MAX_BYTES) ||
      !int(c.chunks, 1, 1 << 20) || typeof c.name !== 'string' || utf8(c.name).length > 255) {
    throw err('bad_json', 'Le message qui annonce ce fichier est mal formé\u00a0: il ne peut pas être ' +
      'téléchargé ; demandez à l’expéditeur de l’envoyer à nouveau (bad_json).');
  }
  return out;
}

/** A file name safe to offer for saving: its last path element, never hidden or empty. */
export function saveName(name) {
  const base = String(name).split(/[/\\]/).pop().replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return !base || base.startsWith('.') ? 'piece-jointe' : base;
}

/**
 * Downloads and decrypts the attachment a "file" content describes; resolves
 * with {blob, name, size} only when every chunk decrypted, the final one was
 * seen, the BLAKE2b-256 hash matches and the size is the announced one. A
 * chunk that does not decrypt stops everything: nothing is returned.
 */
export async function downloadFile(conn, content, {
  onProgress = () => {}, signal = null, window = WINDOW,
} = {}) {
  const f = parseFile(content);
  const name = saveName(f.name);
  const attachment = toHex(f.id);
  checkAbort(signal, false);
  const info = await conn.request('attachment_info', { attachment });
  if (info.complete !== true) {
    throw err('not_found', 'Ce fichier n’a jamais été entièrement envoyé\u00a0: demandez à ' +
      'l’expéditeur de l’envoyer à nouveau (not_found).');
  }
  const parts = [];
  let done = 0;
  const altered = (what) => err('bad_signature', `Le fichier ${quoted(name)} a été altéré ou ne ` +
    `correspond pas à ce message (${what})\u00a0: rien n’a été enregistré ; demandez à l’expéditeur ` +
    'de l’envoyer à nouveau (bad_signature).');
  try {
    const dec = attachDecInit(f.key, f.header, f.id);
    onProgress(0, f.size);
    await pipeline(f.chunks, window, signal, false,
      (i) => conn.request('attachment_get', { attachment, index: i }),
      (i, reply) => {
        let ct = null;
        try {
          ct = typeof reply.data === 'string' && reply.data.length <= 4 * Math.ceil(CHUNK_CT / 3)
            ? unb64(reply.data) : null;
        } catch {
          ct = null;
        }
        if (!ct || reply.index !== i) {
          throw err('bad_json', `Le morceau ${i} du fichier est mal formé\u00a0: réessayez ; si cela se ` +
            'reproduit, signalez-le (bad_json).');
        }
        const plain = dec.pull(ct);
        if (!plain) throw altered(`le morceau ${i} ne se déchiffre pas`);
        parts.push(plain);
        done += plain.length;
        onProgress(Math.min(done, f.size), f.size);
      });
    if (!dec.finish(f.hash)) throw altered('sa fin ou son empreinte ne correspond pas');
    if (done !== f.size) throw altered(`il fait ${done} octets, le message en annonce ${f.size}`);
    // application/octet-stream whatever the message says: a Blob URL never
    // renders as a page of this origin, it is only saved
    const blob = new Blob(parts, { type: 'application/octet-stream' });
    return { blob, name, size: f.size, mime: f.mime };
  } finally {
    for (const p of parts) wipe(p);
    wipe(f.key);
  }
}

/** Offers blob for saving under name through <a download href=blob:…>; the URL is revoked after. */
export function saveBlob(blob, name, doc = document) {
  const url = URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = saveName(name);
  a.hidden = true;
  doc.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
