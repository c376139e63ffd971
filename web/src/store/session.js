// The unsealed keys, in memory only, for as long as the session is unlocked:
// wiped (overwritten, then dropped) on "Verrouiller" and after IDLE_LOCK_MS
// without a key press, click or touch. The page exposes only whether keys
// are held, as <html data-keys="held|none"> (for the tests; no key is ever
// reachable from a global).
import { wipe } from '../crypto/index.js';

export const IDLE_LOCK_MS = 15 * 60 * 1000; // 15 minutes

let keys = null; // {ik, dk, ak, local}: Uint8Arrays (local: the key of store/vault.js)
let idleTimer = null;
let onLock = null;

function mark() {
  document.documentElement.dataset.keys = keys ? 'held' : 'none';
}

function armIdle() {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = keys ? setTimeout(() => lock('idle'), IDLE_LOCK_MS) : null;
}

const ACTIVITY = ['keydown', 'pointerdown', 'touchstart', 'wheel'];
function activity() {
  if (keys) armIdle();
}
for (const ev of ACTIVITY) document.addEventListener(ev, activity, { capture: true, passive: true });

/** Holds the unsealed keys; fn(reason) is called once when they are wiped. */
export function unlock(secrets, lockCallback) {
  lock(null);
  keys = secrets;
  onLock = lockCallback || null;
  armIdle();
  mark();
}

/** The key named (ik, dk, ak, local) while unlocked, else null. Do not keep it. */
export function key(name) {
  return keys ? keys[name] : null;
}

export function isUnlocked() {
  return keys !== null;
}

/** Wipes the keys; reason 'user' (Verrouiller), 'idle', or null (silent). */
export function lock(reason = 'user') {
  const had = keys !== null;
  if (keys) for (const k of Object.keys(keys)) wipe(keys[k]);
  keys = null;
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  mark();
  const cb = onLock;
  onLock = null;
  if (had && cb && reason) cb(reason);
}

mark();
