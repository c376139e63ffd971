// Enrolment and login of this browser as a device (docs/PROTOCOL.md
// "Enrolment" and "Session", CRYPTO.md §1), as the CLI does in
// client/cli/cmd_enrol.c and client/core/login.c: fresh IK, DK and AK, the
// device and AK certificates, enrol, then a login signed over the server's
// name recorded at enrolment and the hello's challenge.
import {
  signKeypair, sign, devCert, akCert, loginString, x25519Public, toHex, fromHex, toB64,
  fromB64, equal, inviteParse, inviteText, wipe, fingerprint,
} from './crypto/index.js';
import { lib } from './crypto/sodium.js';
import { LiaisonError, idemKey } from './net/client.js';
import { frenchError } from './net/errors.js';
import { sealRecord, saveRecord } from './store/keystore.js';

export const PASSPHRASE_MIN = 8; // characters, as the CLI (client/cli/passphrase.h)
export const PASSPHRASE_MAX = 1024; // bytes, as the CLI
export const DEVICE_NAME_MAX = 64;

function localError(code) {
  return new LiaisonError(code, frenchError(code));
}

/** The canonical text of an invite code, or null. */
export function normaliseInvite(text) {
  const raw = inviteParse(text || '');
  return raw ? inviteText(raw) : null;
}

/** Device names: 1–64 bytes of UTF-8, no control characters (as the server checks). */
export function deviceNameValid(name) {
  const n = new TextEncoder().encode(name).length;
  // eslint-disable-next-line no-control-regex
  return n >= 1 && n <= DEVICE_NAME_MAX && !/[\u0000-\u001f\u007f-\u009f]/.test(name);
}

function randomId() {
  return lib().randombytes_buf(16);
}

/**
 * Creates the keys, enrols with the invite, seals the keys under the
 * passphrase and stores them (the record is sealed before the invite is
 * spent, so a failure to seal costs nothing). Returns {record, secrets}.
 */
export async function enrol(conn, code, deviceName, passphrase) {
  return enrolAs(conn, code, deviceName, passphrase, { user: randomId(), ik: signKeypair() });
}

/**
 * The enrolment itself, for a given account identity {user (16 bytes), ik
 * {publicKey, privateKey}}: a new account (enrol above, fresh user id and
 * IK) or a further device of an existing one (device_add.js: the user id of
 * the device invite and the IK restored from the key backup). Fresh device
 * id, DK and AK certified under that IK (as make_device in
 * client/cli/cmd_enrol.c), the record sealed, enrol, the record saved. The
 * secret keys of the returned secrets are wiped when it fails, ik.privateKey
 * included (pass a copy to keep it).
 */
export async function enrolAs(conn, code, deviceName, passphrase, { user, ik }) {
  const dk = signKeypair();
  const akSk = lib().randombytes_buf(32);
  const akPk = x25519Public(akSk);
  const device = randomId();
  const akId = randomId();
  const ts = Date.now();
  const dkSig = sign(devCert(user, device, dk.publicKey, ts), ik.privateKey);
  const akSig = sign(akCert(device, akId, akPk, ts), dk.privateKey);
  const secrets = { ik: ik.privateKey, dk: dk.privateKey, ak: akSk };
  let record;
  try {
    record = sealRecord(passphrase, secrets, {
      server: conn.serverName,
      user: toHex(user),
      device: toHex(device),
      ak_id: toHex(akId),
      device_name: deviceName,
      ik_pk: ik.publicKey,
      dk_pk: dk.publicKey,
      ak_pk: akPk,
      created_at: ts,
    });
    await conn.request('enrol', {
      idem: idemKey(), code, user: toHex(user), device: toHex(device), device_name: deviceName,
      ik: toB64(ik.publicKey), dk: toB64(dk.publicKey), dk_ts: ts, dk_sig: toB64(dkSig),
      ak_id: toHex(akId), ak: toB64(akPk), ak_ts: ts, ak_sig: toB64(akSig),
    });
  } catch (e) {
    for (const k of Object.values(secrets)) wipe(k);
    throw e;
  }
  try {
    await saveRecord(record);
  } catch {
    for (const k of Object.values(secrets)) wipe(k);
    throw localError('storage_local');
  }
  return { record, secrets };
}

/**
 * Logs in with the device key; checks that the server's account is this
 * browser's (same identity and device key). Returns the login reply's
 * {user, device}.
 */
export async function login(conn, record, dkSecret) {
  const challenge = fromB64(conn.challenge);
  const sig = sign(loginString(record.server, fromHex(record.user), fromHex(record.device), challenge),
    dkSecret);
  const reply = await conn.request('login', {
    user: record.user, device: record.device, sig: toB64(sig), binary: true,
  });
  conn.binary = reply.binary === true; // the server agreed: attachment chunks travel as bytes
  const u = reply.user || {};
  const d = reply.device || {};
  let same = false;
  try {
    same = u.id === record.user && d.id === record.device && equal(fromB64(u.ik), record.ik_pk) &&
      equal(fromB64(d.dk), record.dk_pk);
  } catch {
    same = false;
  }
  if (!same) {
    conn.close();
    throw new LiaisonError('protocol', 'Le serveur présente un compte dont les clés ne sont pas celles ' +
      'de ce navigateur\u00a0: ne continuez pas et prévenez votre administrateur (protocol).');
  }
  return { user: u, device: d };
}

/** This user's fingerprint (CRYPTO.md §2) from the keys this browser holds, 6 groups of 5 digits. */
export function ownFingerprint(record, rpps) {
  const digits = fingerprint(fromHex(record.user), rpps || '', record.ik_pk);
  return digits.match(/.{5}/g).join(' ');
}
