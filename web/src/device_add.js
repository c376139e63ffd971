// A further device of an existing account (docs/PROTOCOL.md "Key backup" →
// "A new device for an existing user", CRYPTO.md "Key backup (§7)"), as the
// CLI does it (client/cli/cmd_enrol.c restore_identity and
// restore_sessions, client/core/key_backup.c key_backup_restore):
//   1. the device invite's invite_info names the account ("user"), gives its
//      identity key ("ik") and, when the user set up a key backup, the
//      identity blob ("backup_identity");
//   2. the recovery code (lenient base32, checksum) gives RK, and IKK opens
//      the blob: IK_sk, checked to belong to the account's IK — all in the
//      page, so a wrong code costs no request and spends nothing;
//   3. enrol with that user id and IK (account.js enrolAs: fresh DK and AK
//      certified under it), the keys sealed under a new passphrase;
//   4. after the first login, the history keys: backup_identity_get opened
//      again (the CLI's check_identity), BK kept, and every backup_get entry
//      opened and kept in the vault (store/vault.js):
//        backup:key                       {bk: hex}   BK, to back up the
//                                         sessions this device receives later
//        backup:session:<channel hex>:<session_id hex>
//                                         one restored inbound group session:
//          {channel, session_id (hex), first_index, sender_user,
//           sender_device, chain_key (base64, the chain key at first_index),
//           forwarded_by (hex or null), direct_index (-1: none), history,
//           received_at (ms), via_device (this device, hex), backed_up: true}
//      — the fields of the CLI's backup entry data ({"v":1, …}, key_backup.c
//      entry_json) plus the entry's own; an entry that does not open or is
//      malformed is skipped, as the CLI skips it.
// Also the invite of `liaisond user reset` (invite_info "new_identity"): the
// same user id with a fresh IK (enrolNewIdentity), as `liaison enrol` does.
import {
  fromB64, fromHex, toHex, wipe, recoveryParse, backupKey, identityKeyKey,
  identityOpen, backupOpen, fromUtf8, fingerprint, signKeypair,
} from './crypto/index.js';
import { LiaisonError } from './net/client.js';
import { enrolAs } from './account.js';
import * as vault from './store/vault.js';
import { inboundMerge } from './core/sessions.js';

export const BACKUP_PAGE = 200; // entries per backup_get, as the CLI
export const KEY_RECORD = 'backup:key';
export const SESSION_PREFIX = 'backup:session:';

const ID_RE = /^[0-9a-fA-F]{32}$/;

function fail(code, text) {
  return new LiaisonError(code, text);
}

/**
 * What a device invite's invite_info says about the account: {user, ik,
 * blob} (bytes; blob null when the account has no key backup). Throws a
 * LiaisonError when the reply lacks what a further device needs.
 */
export function deviceInvite(info) {
  let user;
  let ik;
  try {
    user = fromHex(String(info.user));
    if (user.length !== 16) throw new TypeError('user');
  } catch {
    throw fail('protocol', 'Le serveur a décrit cette invitation de façon incomplète (pas d’identifiant ' +
      'de compte)\u00a0: rechargez la page\u00a0; si cela se reproduit, signalez-le (protocol).');
  }
  try {
    ik = fromB64(String(info.ik));
    if (ik.length !== 32) throw new TypeError('ik');
  } catch {
    throw fail('protocol', 'Le serveur ne donne pas la clé d’identité du compte avec cette invitation\u00a0: ' +
      'il doit être mis à jour\u00a0; prévenez votre administrateur (protocol).');
  }
  let blob = null;
  if (info.backup_identity !== undefined && info.backup_identity !== null) {
    try {
      blob = fromB64(String(info.backup_identity));
    } catch {
      throw fail('protocol', 'La sauvegarde des clés de ce compte est illisible\u00a0: ' +
        'prévenez votre administrateur (protocol).');
    }
  }
  return { user, ik, blob };
}

export const NO_BACKUP = 'Ce compte n’a pas de sauvegarde des clés\u00a0: ce navigateur ne peut pas ' +
  'retrouver votre identité. Sur votre autre appareil, créez-la avec «\u00a0liaison backup setup\u00a0» ' +
  '(notez le code de récupération affiché), puis revenez ici avec la même invitation, qui reste ' +
  'valable (not_found).';

/**
 * Opens the account's identity key from the key backup with a recovery code
 * (text as typed). Returns {rk, ikSk} (the caller wipes them), or throws a
 * LiaisonError: bad_request for a code that is not one (wrong character,
 * length or checksum: a typo), bad_signature for a code that does not open
 * this account's backup, not_found when the account has no backup. Nothing
 * is sent to the server.
 */
export function openIdentity(inv, codeText) {
  if (!inv.blob) throw fail('not_found', NO_BACKUP);
  const rk = recoveryParse(codeText || '');
  if (!rk) {
    throw fail('bad_request', 'Ce n’est pas un code de récupération valable\u00a0: il a 56 lettres et ' +
      'chiffres en 14 groupes de 4, dont une somme de contrôle\u00a0; vérifiez chaque caractère ' +
      '(bad_request).');
  }
  const ikk = identityKeyKey(rk);
  const ikSk = identityOpen(ikk, inv.user, inv.ik, inv.blob);
  wipe(ikk);
  if (!ikSk) {
    wipe(rk);
    throw fail('bad_signature', 'Ce code de récupération n’ouvre pas la sauvegarde des clés de ce ' +
      'compte\u00a0: vérifiez que c’est bien le code de ce compte, le plus récent (bad_signature).');
  }
  return { rk, ikSk };
}

/** The account's fingerprint (CRYPTO.md §2), 6 groups of 5 digits, to show once the backup opened. */
export function accountFingerprint(inv, rpps) {
  return fingerprint(inv.user, rpps || '', inv.ik).match(/.{5}/g).join(' ');
}

/**
 * Enrols this browser as a further device of the account: IK = the one
 * restored (ikSk is copied, the caller keeps and wipes its own), fresh DK
 * and AK. Returns {record, secrets} as account.enrol.
 */
export async function enrolDevice(conn, code, inv, ikSk, deviceName, passphrase) {
  return enrolAs(conn, code, deviceName, passphrase, {
    user: inv.user, ik: { publicKey: inv.ik, privateKey: Uint8Array.from(ikSk) },
  });
}

/**
 * An invite after `liaisond user reset` (invite_info: user, new_identity):
 * the same account with a new identity key (fresh IK, DK and AK), as
 * `liaison enrol` does with it; the server replaces the account's IK.
 */
export async function enrolNewIdentity(conn, code, info, deviceName, passphrase) {
  let user;
  try {
    user = fromHex(String(info.user));
  } catch {
    user = null;
  }
  if (!user || user.length !== 16) {
    throw fail('protocol', 'Le serveur a décrit cette invitation de façon incomplète (pas d’identifiant ' +
      'de compte)\u00a0: rechargez la page\u00a0; si cela se reproduit, signalez-le (protocol).');
  }
  return enrolAs(conn, code, deviceName, passphrase, { user, ik: signKeypair() });
}

function entryRecord(bk, user, entry, device, now) {
  if (!entry || typeof entry !== 'object') return null;
  const { channel, session_id: sid64, first_index: first, data: data64 } = entry;
  if (typeof channel !== 'string' || !ID_RE.test(channel)) return null;
  if (!Number.isInteger(first) || first < 0 || first > 0xfffffffe) return null;
  let sessionId;
  let blob;
  try {
    sessionId = fromB64(sid64);
    blob = fromB64(data64);
  } catch {
    return null;
  }
  if (sessionId.length !== 32) return null;
  const data = backupOpen(bk, { user, channel: fromHex(channel), sessionId, firstIndex: first }, blob);
  if (!data) return null; // not ours or altered: skipped
  let obj;
  try {
    obj = JSON.parse(fromUtf8(data));
  } catch {
    obj = null;
  } finally {
    wipe(data);
  }
  if (!obj || typeof obj !== 'object') return null;
  const id = (v) => typeof v === 'string' && ID_RE.test(v);
  let chain;
  try {
    chain = fromB64(obj.chain_key);
  } catch {
    return null;
  }
  const ok = id(obj.sender_user) && id(obj.sender_device) && chain.length === 32 &&
    (obj.forwarded_by === undefined || obj.forwarded_by === null || id(obj.forwarded_by)) &&
    (obj.direct_index === undefined || (Number.isInteger(obj.direct_index) && obj.direct_index >= -1 &&
      obj.direct_index <= 0xffffffff)) &&
    (obj.history === undefined || typeof obj.history === 'boolean');
  wipe(chain);
  if (!ok) return null;
  const name = `${SESSION_PREFIX}${channel.toLowerCase()}:${toHex(sessionId)}`;
  return [name, {
    channel: channel.toLowerCase(), session_id: toHex(sessionId), first_index: first,
    sender_user: obj.sender_user.toLowerCase(), sender_device: obj.sender_device.toLowerCase(),
    chain_key: obj.chain_key, forwarded_by: obj.forwarded_by ? obj.forwarded_by.toLowerCase() : null,
    direct_index: obj.direct_index === undefined ? -1 : obj.direct_index, history: obj.history === true,
    received_at: now, via_device: device, backed_up: true,
  }];
}

/**
 * After the first login (the vault is open): checks again that RK opens the
 * account's identity blob (backup_identity_get), keeps BK, and restores every
 * session entry of backup_get into the vault (the lowest first_index of a
 * session is kept, as the CLI's local_inbound_merge). Returns the number of
 * sessions added. Throws a LiaisonError (French) when it cannot.
 */
export async function restoreSessions(conn, record, rk) {
  const user = fromHex(record.user);
  const ikPk = record.ik_pk;
  const bk = backupKey(rk);
  const ikk = identityKeyKey(rk);
  try {
    let reply;
    try {
      reply = await conn.request('backup_identity_get');
    } catch (e) {
      if (e.code === 'not_found') throw fail('not_found', NO_BACKUP);
      throw e;
    }
    let blob = null;
    try {
      blob = fromB64(reply.blob);
    } catch {
      blob = null;
    }
    const sk = blob ? identityOpen(ikk, user, ikPk, blob) : null;
    if (!sk) {
      throw fail('bad_signature', 'Ce code de récupération n’ouvre pas la sauvegarde des clés de ce ' +
        'compte\u00a0: vérifiez le code (bad_signature).');
    }
    wipe(sk);
    await vault.put(KEY_RECORD, { bk: toHex(bk) });
    let after = 0;
    let added = 0;
    for (;;) {
      const page = await conn.request('backup_get', { after, limit: BACKUP_PAGE });
      const entries = Array.isArray(page.entries) ? page.entries : [];
      const now = Date.now();
      const pairs = [];
      for (const entry of entries) {
        const made = entryRecord(bk, user, entry, record.device, now);
        if (entry && Number.isInteger(entry.id) && entry.id > after) after = entry.id;
        if (!made) continue;
        const [name, value] = made;
        const had = pairs.find((p) => p[0] === name) || null;
        const old = had ? had[1] : await vault.get(name);
        if (old && old.first_index <= value.first_index) continue;
        if (had) had[1] = value;
        else pairs.push([name, value]);
      }
      if (pairs.length) await vault.putMany(pairs);
      // the messaging core reads inbound sessions as inb:<sid> (core/store.js):
      // without this, a restored key decrypts nothing (README "in the browser")
      for (const [, r] of pairs) {
        await inboundMerge(r.session_id, {
          channel: r.channel, sender_user: r.sender_user, sender_device: r.sender_device,
          first_index: r.first_index, ck: r.chain_key, forwarded: r.forwarded_by !== null,
          forwarded_by: r.forwarded_by, via_device: r.via_device, direct_index: r.direct_index,
          history: r.history, received_at: r.received_at,
        });
      }
      added += pairs.length;
      if (page.more !== true || entries.length === 0) break;
    }
    return added;
  } finally {
    wipe(bk);
    wipe(ikk);
  }
}
