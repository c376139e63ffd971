// Colleagues' identity keys, trusted on first use (CRYPTO.md §2), as the
// CLI's client/store/local_pins.c: the first IK the server shows for a user
// is pinned; a different one later is recorded as a change (which blocks
// sharing keys with that user until accepted); comparing the safety number
// marks the pin verified. Records in the vault (store/vault.js):
//   pin:<user hex>  {ik, rpps, verified, changed_ik, pinned_at, verified_at, changed_at}
//   pinh:<user hex>:<ik hex>  {accepted_at}   every IK ever accepted (device
//                    certificates made under an earlier accepted IK stay valid)
// ik and changed_ik are hex; times in ms.
import { toHex, equal, fromHex } from '../crypto/index.js';
import * as vault from './vault.js';

/** The pin of user (hex id), or null. */
export async function get(user) {
  return (await vault.get(`pin:${user}`)) || null;
}

async function history(user, ikHex, now) {
  await vault.put(`pinh:${user}:${ikHex}`, { accepted_at: now });
}

/**
 * The server shows ik (Uint8Array(32)) for user: pins it if unknown (trust on
 * first use); records a change when it differs from the pin, clears the
 * change when the server shows the pinned key again. Returns the pin.
 */
export async function observe(user, rpps, ik, now = Date.now()) {
  const ikHex = toHex(ik);
  let pin = await get(user);
  if (!pin) {
    pin = { ik: ikHex, rpps: rpps || null, verified: false, changed_ik: null, pinned_at: now,
      verified_at: null, changed_at: null };
    await vault.put(`pin:${user}`, pin);
    await history(user, ikHex, now);
    return pin;
  }
  if (equal(fromHex(pin.ik), ik)) {
    if (pin.changed_ik) {
      pin = { ...pin, changed_ik: null, changed_at: null };
      await vault.put(`pin:${user}`, pin);
    }
    return pin;
  }
  if (pin.changed_ik === ikHex) return pin;
  pin = { ...pin, changed_ik: ikHex, changed_at: now };
  await vault.put(`pin:${user}`, pin);
  return pin;
}

/** Was ik ever accepted for user? */
export async function known(user, ik) {
  return (await vault.get(`pinh:${user}:${toHex(ik)}`)) !== undefined;
}

/** Accepts ik as user's identity key; verified when the safety number was compared. */
export async function accept(user, ik, verified, now = Date.now()) {
  const ikHex = toHex(ik);
  const old = await get(user);
  const pin = { ik: ikHex, rpps: old ? old.rpps : null, verified: !!verified, changed_ik: null,
    pinned_at: old && old.ik === ikHex ? old.pinned_at : now, verified_at: verified ? now : null,
    changed_at: null };
  await vault.put(`pin:${user}`, pin);
  await history(user, ikHex, now);
  return pin;
}
