// Runs inside Chromium (loaded by test_crypto.mjs). Computes every CRYPTO.md
// test vector with the bundled browser crypto (web/dist) from the fixed
// INPUTS the document gives, and returns the results; the comparison with
// the document's expected values is made in Node by test_crypto.mjs.
// `doc` (the document's values) is used only where a check OPENS the
// document's bytes (decrypting a recorded envelope or blob), never to
// produce a value that is then compared.

const seq = (start, n) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

export async function run(cryptoUrl, doc) {
  const c = await import(cryptoUrl);
  await c.ready();
  const hex = c.toHex;
  const V = {}; // name -> computed value (compared with the document's)
  const checks = []; // [description, true/false]
  const check = (name, f) => {
    let ok;
    try {
      ok = f() === true;
    } catch (e) {
      ok = false;
      console.log(`check threw: ${name}: ${e}`);
    }
    checks.push([name, ok]);
  };
  const flip = (b, i) => {
    const x = Uint8Array.from(b);
    x[i] ^= 1;
    return x;
  };
  const timings = {};

  const USER_A = seq(0xa0, 16), DEV_A = seq(0xb0, 16), AK_ID_B = seq(0xc0, 16);
  const USER_B = seq(0xd0, 16), DEV_B = seq(0xe0, 16), CHANNEL = seq(0xf0, 16);
  const NONCE = seq(0x80, 24);
  const TS = 1763900000000;
  const IK = c.signSeedKeypair(seq(0x00, 32));
  const S = c.signSeedKeypair(seq(0x20, 32));

  // ---- local key and database key
  let t0 = performance.now();
  const local = c.localKey('correct horse battery staple', c.utf8('liaison-salt-16b'), 2, 65536 * 1024);
  timings.argon2id_interactive_ms = Math.round(performance.now() - t0);
  V.LOCAL_KEY = hex(local);
  V.DB_KEY = hex(c.databaseKey(local));
  const item = c.sealItem(local, 'dk_sk', seq(0x00, 64));
  check('local item opens under its name', () => hex(c.openItem(local, 'dk_sk', item)) === hex(seq(0, 64)));
  check('local item refused under another name', () => c.openItem(local, 'ik_sk', item) === null);
  check('local item refused under another passphrase', () =>
    c.openItem(c.localKey('wrong horse', c.utf8('liaison-salt-16b'), 2, 65536 * 1024), 'dk_sk', item) === null);
  check('local item refused altered or truncated', () =>
    c.openItem(local, 'dk_sk', flip(item, 3)) === null && c.openItem(local, 'dk_sk', flip(item, 40)) === null &&
    c.openItem(local, 'dk_sk', item.slice(0, item.length - 1)) === null);

  // ---- invite codes
  const raw = seq(0, 15);
  V.INVITE_TEXT = c.inviteText(raw);
  V.INVITE_HASH = hex(c.inviteHash(raw));
  V.INVITE_ZEROS = c.inviteText(new Uint8Array(15));
  V.INVITE_FF = c.inviteText(new Uint8Array(15).fill(0xff));
  check('invite lenient spellings parse to the same bytes', () =>
    ['000g40r40m30e209185gr38e', 'OOOG 40R4 0M30 E209 185G R38E', '000G-40R4-0M30-E209-I85G-R38E']
      .every((s) => { const r = c.inviteParse(s); return r !== null && hex(r) === hex(raw); }));
  check('invite refused: 23 or 25 characters, U, _, ., non-ASCII', () =>
    ['000G-40R4-0M30-E209-185G-R38', '000G-40R4-0M30-E209-185G-R38E0', '000G-40R4-0M30-E209-185G-R38U',
      '000G-40R4-0M30-E209-185G-R38_', '000G-40R4-0M30-E209-185G-R38.', '000G-40R4-0M30-E209-185G-R38é']
      .every((s) => c.inviteParse(s) === null));

  // ---- signed byte strings and Ed25519 signatures
  V.IK_A = hex(IK.publicKey);
  const strings = {
    DEV_CERT: c.devCert(USER_A, DEV_A, seq(0x40, 32), TS),
    AK_CERT: c.akCert(DEV_A, AK_ID_B, seq(0x60, 32), TS),
    LOGIN: c.loginString('localhost', USER_A, DEV_A, seq(0x80, 32)),
    REVOKE: c.revokeString(USER_A, DEV_A, TS),
  };
  const sigs = {};
  for (const [k, s] of Object.entries(strings)) {
    V[k] = hex(s);
    sigs[k] = c.sign(s, IK.privateKey);
    V['SIG_' + k] = hex(sigs[k]);
  }
  check('each signature verifies over its own string only', () =>
    Object.keys(strings).every((a) => Object.keys(strings).every((b) =>
      c.verify(sigs[a], strings[b], IK.publicKey) === (a === b))));
  check('flipping a bit of signature, string or public key fails', () =>
    Object.keys(strings).every((k) => !c.verify(flip(sigs[k], 10), strings[k], IK.publicKey) &&
      !c.verify(sigs[k], flip(strings[k], 20), IK.publicKey) && !c.verify(sigs[k], strings[k], flip(IK.publicKey, 5))));
  check('a login for liaison.cpts-a.fr does not verify for liaison.cpts-b.fr', () => {
    const sa = c.sign(c.loginString('liaison.cpts-a.fr', USER_A, DEV_A, seq(0x80, 32)), IK.privateKey);
    return c.verify(sa, c.loginString('liaison.cpts-a.fr', USER_A, DEV_A, seq(0x80, 32)), IK.publicKey) &&
      !c.verify(sa, c.loginString('liaison.cpts-b.fr', USER_A, DEV_A, seq(0x80, 32)), IK.publicKey);
  });
  check('login string refused for an empty or 254-byte server name', () => {
    for (const n of ['', 'a'.repeat(254)]) {
      try {
        c.loginString(n, USER_A, DEV_A, seq(0x80, 32));
        return false;
      } catch { /* refused, as it must be */ }
    }
    return c.loginString('a'.repeat(253), USER_A, DEV_A, seq(0x80, 32)).length === 16 + 255 + 18 + 18 + 34;
  });

  // ---- membership log and heads
  const MCH = seq(0xd0, 16), SUBJ = seq(0xe0, 16);
  const e0 = { channel: MCH, seq: 0, actor: USER_A, actorDevice: DEV_A, action: 'create', subject: USER_A,
    role: 'admin', history: 'shared', kind: 'case', ts: TS };
  const e1 = { channel: MCH, seq: 1, prev: c.mlogHash(e0), actor: USER_A, actorDevice: DEV_A, action: 'add',
    subject: SUBJ, role: 'member', ts: 1763900001000 };
  const e2 = { channel: MCH, seq: 2, prev: c.mlogHash(e1), actor: USER_A, actorDevice: DEV_A, action: 'remove',
    subject: SUBJ, role: 'none', ts: 1763900002000 };
  [e0, e1, e2].forEach((e, i) => {
    V['MLOG_E' + i] = hex(c.mlogSigned(e));
    V['MLOG_H' + i] = hex(c.mlogHash(e));
    V['MLOG_HEAD_' + i] = c.mlogHeadJson(e);
  });
  V.MLOG_SIG0 = hex(c.mlogSign(e0, IK.privateKey));
  V.MLOG_SIG1 = hex(c.mlogSign(e1, IK.privateKey));
  check('mlog signatures verify, and not over another entry', () =>
    c.mlogVerify(e1, c.mlogSign(e1, IK.privateKey), IK.publicKey) &&
    !c.mlogVerify(e0, c.mlogSign(e1, IK.privateKey), IK.publicKey));
  check('mlog head parses back to seq and hash', () => {
    const h = c.mlogHeadParse(c.mlogHeadJson(e2));
    return h !== null && h.seq === 2 && hex(h.hash) === hex(c.mlogHash(e2));
  });
  check('malformed mlog heads are refused', () => [
    '{"seq":1}', '{"hash":"G44OPghswtUV0d6jqZrzU9vyFievvMOqvlG87IkKDkE="}',
    '{"seq":1,"hash":"G44OPghswtUV0d6jqZrzU9vyFievvMOqvlG87IkKDkE=","x":1}',
    '{"seq":-1,"hash":"G44OPghswtUV0d6jqZrzU9vyFievvMOqvlG87IkKDkE="}',
    '{"seq":1.5,"hash":"G44OPghswtUV0d6jqZrzU9vyFievvMOqvlG87IkKDkE="}',
    '{"seq":"1","hash":"G44OPghswtUV0d6jqZrzU9vyFievvMOqvlG87IkKDkE="}',
    '{"seq":9007199254740992,"hash":"G44OPghswtUV0d6jqZrzU9vyFievvMOqvlG87IkKDkE="}',
    '{"seq":1,"hash":"G44OPghswtUV0d6jqZrzU9vyFievvMOqvlG87IkKD=="}', '{"seq":1,"hash":"AAAA"}', '[1]', 'null',
  ].every((s) => c.mlogHeadParse(s) === null));

  // ---- fingerprint and safety number
  t0 = performance.now();
  const fa = c.fingerprint(USER_A, '10003456786', IK.publicKey);
  timings.fingerprint_ms = Math.round(performance.now() - t0);
  const fb = c.fingerprint(USER_B, '', S.publicKey);
  V.FPR_A = fa;
  V.FPR_A_NORPPS = c.fingerprint(USER_A, '', IK.publicKey);
  V.FPR_B = fb;
  V.SAFETY = c.safetyNumber(USER_A, fa, USER_B, fb);
  check('safety number is the same in either order', () => c.safetyNumber(USER_B, fb, USER_A, fa) === V.SAFETY);
  check('fingerprint refuses an rpps above 64 bytes', () => c.fingerprint(USER_A, '1'.repeat(65), IK.publicKey) === '');

  // ---- key-share envelope
  const akB = { privateKey: seq(0x40, 32), publicKey: c.x25519Public(seq(0x40, 32)) };
  const eSk = seq(0x60, 32);
  const ePk = c.x25519Public(eSk);
  V.AK_B_PK = hex(akB.publicKey);
  V.E_PK = hex(ePk);
  V.KS_Q = hex(c.x25519(eSk, akB.publicKey));
  V.KS_K = hex(c.ksKey(ePk, eSk, akB.publicKey));
  const ksPlain = c.utf8('{"type":"room_key","index":0}');
  const ksArgs = { userA: USER_A, devA: DEV_A, userB: USER_B, devB: DEV_B, akIdB: AK_ID_B, akPkB: akB.publicKey,
    dkSecretA: IK.privateKey, plaintext: ksPlain };
  const ksEnv = c.ksSeal(ksArgs, { eSk, shareId: seq(0x10, 16), nonce: NONCE });
  V.KS_ENV = hex(ksEnv);
  const docKs = c.fromHex(doc.KS_ENV);
  const meB = { user: USER_B, device: DEV_B };
  check('the document\'s key-share envelope opens as device B', () => {
    const r = c.ksOpen(docKs, { me: meB, dkPkA: IK.publicKey, ak: akB });
    return r.status === 'ok' && c.fromUtf8(r.plaintext) === '{"type":"room_key","index":0}';
  });
  check('key share refused: not for me (other device, other user)', () =>
    c.ksOpen(docKs, { me: { user: USER_B, device: DEV_A }, dkPkA: IK.publicKey, ak: akB }).status === 'not_for_me' &&
    c.ksOpen(docKs, { me: { user: USER_A, device: DEV_B }, dkPkA: IK.publicKey, ak: akB }).status === 'not_for_me');
  check('key share refused: any byte of sender, E_pk, share_id, nonce, ct or sig altered', () =>
    [20, 40, 110, 140, 160, 190, docKs.length - 3].every((i) =>
      c.ksOpen(flip(docKs, i), { me: meB, dkPkA: IK.publicKey, ak: akB }).status === 'bad_signature'));
  check('key share refused: another DK, another AK, bad format', () =>
    c.ksOpen(docKs, { me: meB, dkPkA: S.publicKey, ak: akB }).status === 'bad_signature' &&
    c.ksOpen(docKs, { me: meB, dkPkA: IK.publicKey,
      ak: { privateKey: seq(0x41, 32), publicKey: c.x25519Public(seq(0x41, 32)) } }).status === 'decrypt_failed' &&
    c.ksOpen(docKs.slice(0, docKs.length - 1), { me: meB, dkPkA: IK.publicKey, ak: akB }).status === 'bad_format' &&
    c.ksOpen(flip(docKs, 0), { me: meB, dkPkA: IK.publicKey, ak: akB }).status === 'bad_format');
  check('a fresh key share (random E, nonce, share_id) opens and differs', () => {
    const env = c.ksSeal(ksArgs);
    const r = c.ksOpen(env, { me: meB, dkPkA: IK.publicKey, ak: akB });
    return r.status === 'ok' && hex(r.plaintext) === hex(ksPlain) && hex(env) !== hex(ksEnv);
  });

  // ---- group session ratchet and message envelope
  const ck0 = seq(0x40, 32);
  const out = c.gsOutboundFrom({ sessionSk: S.privateKey, ck: ck0, index: 0 });
  const s0 = c.gsRatchetStep(out);
  V.MK_0 = hex(s0.mk);
  V.CK_1 = hex(out.ck);
  const s1 = c.gsRatchetStep(out);
  V.MK_1 = hex(s1.mk);
  V.CK_2 = hex(out.ck);
  const s2 = c.gsRatchetStep(out);
  V.MK_2 = hex(s2.mk);
  V.CK_3 = hex(out.ck);
  V.CK_100 = hex(c.gsAdvance(ck0, 0, 100));
  const gsPlain = c.utf8('Sortie prevue demain 10h, ordonnance jointe.');
  const gsEnv = c.gsSeal({ channel: CHANNEL, sessionSk: S.privateKey, index: s1.index, mk: s1.mk,
    senderDevice: DEV_A, ts: TS, plaintext: gsPlain }, NONCE);
  V.GS_ENV = hex(gsEnv);
  V.GS_ENV_HASH = hex(c.gsEnvelopeHash(gsEnv));
  V.LINK = c.linkOf(gsEnv);
  const docGs = c.fromHex(doc.GS_ENV);
  const inb = { channel: CHANNEL, sessionId: S.publicKey, senderDevice: DEV_A, firstIndex: 0, ckFirst: ck0 };
  check('the document\'s message envelope opens from index 0 and from index 1', () => {
    const r0 = c.gsOpen(docGs, inb);
    const r1 = c.gsOpen(docGs, { ...inb, firstIndex: 1, ckFirst: c.gsAdvance(ck0, 0, 1) });
    return r0.status === 'ok' && r1.status === 'ok' && hex(r0.plaintext) === hex(gsPlain);
  });
  check('message refused: wrong session, wrong sender, altered byte, before first key', () =>
    c.gsOpen(docGs, { ...inb, channel: USER_B }).status === 'wrong_session' &&
    c.gsOpen(docGs, { ...inb, sessionId: IK.publicKey }).status === 'wrong_session' &&
    c.gsOpen(docGs, { ...inb, senderDevice: DEV_B }).status === 'wrong_sender' &&
    [75, 90, 110, docGs.length - 1].every((i) => c.gsOpen(flip(docGs, i), inb).status === 'bad_signature') &&
    c.gsOpen(docGs, { ...inb, firstIndex: 2, ckFirst: c.gsAdvance(ck0, 0, 2) }).status === 'before_first_key');
  check('message refused: wrong chain key, bad format; 1000 ahead accepted, 1001 refused', () => {
    const far = (i) => c.gsSeal({ channel: CHANNEL, sessionSk: S.privateKey, index: i,
      mk: c.messageKey(c.gsAdvance(ck0, 0, i)), senderDevice: DEV_A, ts: TS, plaintext: gsPlain });
    return c.gsOpen(docGs, { ...inb, ckFirst: seq(0x41, 32) }).status === 'decrypt_failed' &&
      c.gsOpen(docGs.slice(0, 100), inb).status === 'bad_format' &&
      c.gsOpen(far(1000), inb).status === 'ok' && c.gsOpen(far(1001), inb).status === 'too_far_ahead';
  });
  check('a share at a lower index is consistent only when it ratchets to the held key', () =>
    c.gsInboundConsistent(inb, { ...inb, firstIndex: 3, ckFirst: c.gsAdvance(ck0, 0, 3) }) &&
    !c.gsInboundConsistent({ ...inb, ckFirst: seq(0x41, 32) }, { ...inb, firstIndex: 3, ckFirst: c.gsAdvance(ck0, 0, 3) }));
  check('index 2^32 - 1 is never used', () => {
    const o = c.gsOutboundFrom({ sessionSk: S.privateKey, ck: ck0, index: 0xfffffffe });
    c.gsRatchetStep(o);
    try {
      c.gsRatchetStep(o);
      return false;
    } catch {
      return true;
    }
  });
  check('link: found, missing, malformed, absent', () =>
    c.linkCheck({ link: V.LINK }, (h) => h === c.toHex(c.gsEnvelopeHash(docGs))) === 'found' &&
    c.linkCheck({ link: '00'.repeat(32) }, () => false) === 'missing' &&
    c.linkCheck({ link: V.LINK.toUpperCase() }, () => true) === 'invalid' &&
    c.linkCheck({}, () => true) === 'none');

  // ---- key backup
  const RK = seq(0x00, 32);
  const BK = c.backupKey(RK);
  const IKK = c.identityKeyKey(RK);
  V.BK = hex(BK);
  V.IKK = hex(IKK);
  V.RK_SUM = hex(c.rkChecksum(RK));
  V.RCODE = c.recoveryCode(RK);
  t0 = performance.now();
  V.RK_PASS = hex(c.rkFromPassphrase('correct horse battery staple', c.utf8('liaison-salt-16b')));
  timings.argon2id_moderate_ms = Math.round(performance.now() - t0);
  check('recovery code: lenient spellings accepted, every substitution and transposition refused', () => {
    const code = doc.RCODE;
    if (hex(c.recoveryParse(code)) !== hex(RK)) return false;
    if (hex(c.recoveryParse(code.toLowerCase().replaceAll('-', ' '))) !== hex(RK)) return false;
    const A = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    let n = 0;
    for (let i = 0; i < code.length; i++) {
      if (code[i] === '-') continue;
      for (const ch of A) {
        if (ch === code[i]) continue;
        n++;
        if (c.recoveryParse(code.slice(0, i) + ch + code.slice(i + 1)) !== null) return false;
      }
      const j = code[i + 1] === '-' ? i + 2 : i + 1;
      if (j < code.length && code[j] !== code[i]) {
        const t = code.split('');
        [t[i], t[j]] = [t[j], t[i]];
        if (c.recoveryParse(t.join('')) !== null) return false;
      }
    }
    return n === 1736;
  });
  const SID = S.publicKey;
  const entryF = { user: USER_A, channel: CHANNEL, sessionId: SID, firstIndex: 5 };
  const data = c.utf8('{"first_index":5,"chain_key":"..."}');
  V.BK_ENTRY = hex(c.backupSeal(BK, { ...entryF, data }, NONCE));
  V.BK_AD = hex(c.backupEntryAd(USER_A, CHANNEL, SID, 5));
  V.IK_BLOB = hex(c.identitySeal(IKK, USER_A, IK.publicKey, IK.privateKey, NONCE));
  V.IK_AD = hex(c.identityAd(USER_A, IK.publicKey));
  const docEntry = c.fromHex(doc.BK_ENTRY);
  const docBlob = c.fromHex(doc.IK_BLOB);
  check('the document\'s backup entry opens; refused for another user, channel, session, first_index, key, byte', () =>
    hex(c.backupOpen(BK, entryF, docEntry)) === hex(data) &&
    c.backupOpen(BK, { ...entryF, user: USER_B }, docEntry) === null &&
    c.backupOpen(BK, { ...entryF, channel: USER_B }, docEntry) === null &&
    c.backupOpen(BK, { ...entryF, sessionId: IK.publicKey }, docEntry) === null &&
    c.backupOpen(BK, { ...entryF, firstIndex: 4 }, docEntry) === null &&
    c.backupOpen(BK, { ...entryF, firstIndex: 6 }, docEntry) === null &&
    c.backupOpen(IKK, entryF, docEntry) === null && c.backupOpen(BK, entryF, flip(docEntry, 30)) === null);
  check('the document\'s identity blob opens; refused for another user, IK_pk, key, byte; never as an entry', () =>
    hex(c.identityOpen(IKK, USER_A, IK.publicKey, docBlob)) === hex(IK.privateKey) &&
    c.identityOpen(IKK, USER_B, IK.publicKey, docBlob) === null &&
    c.identityOpen(IKK, USER_A, S.publicKey, docBlob) === null &&
    c.identityOpen(BK, USER_A, IK.publicKey, docBlob) === null &&
    c.identityOpen(IKK, USER_A, IK.publicKey, flip(docBlob, 50)) === null &&
    c.backupOpen(IKK, entryF, docBlob) === null);
  check('an identity blob whose secret key is not IK_pk\'s is refused', () => {
    const other = c.identitySeal(IKK, USER_A, IK.publicKey, S.privateKey);
    return c.identityOpen(IKK, USER_A, IK.publicKey, other) === null;
  });

  // ---- attachments
  const AK = seq(0x40, 32), AH = seq(0x60, 24), AID = seq(0xc0, 16);
  const small = c.attachEncrypt(c.utf8('Lettre de sortie: voir PDF joint.'), AK, AID, AH);
  V.AT_SMALL_CT = hex(small.blob);
  V.AT_SMALL_HASH = hex(small.hash);
  const empty = c.attachEncrypt(new Uint8Array(0), AK, AID, AH);
  V.AT_EMPTY_CT = hex(empty.blob);
  V.AT_EMPTY_HASH = hex(empty.hash);
  const bigPlain = Uint8Array.from({ length: 65546 }, (_, i) => i % 251);
  const big = c.attachEncrypt(bigPlain, AK, AID, AH);
  V.AT_BIG_C0_HEAD = hex(big.chunks[0].subarray(0, 32));
  V.AT_BIG_C1 = hex(big.chunks[1]);
  V.AT_BIG_HASH = hex(big.hash);
  checks.push(['big attachment: chunk 0 is 65553 bytes, chunk 1 is 27, size formula',
    big.chunks.length === 2 && big.chunks[0].length === 65553 && big.chunks[1].length === 27 &&
    c.attachCtSize(65546) === 65580 && c.attachCtSize(0) === 17 && c.attachCtSize(65536) === 65553]);
  const docSmall = c.fromHex(doc.AT_SMALL_CT);
  const docSmallHash = c.fromHex(doc.AT_SMALL_HASH);
  check('the document\'s attachment opens with the pull side', () =>
    c.fromUtf8(c.attachDecrypt(docSmall, AK, AH, AID, docSmallHash)) === 'Lettre de sortie: voir PDF joint.' &&
    c.attachDecrypt(c.fromHex(doc.AT_EMPTY_CT), AK, AH, AID, c.fromHex(doc.AT_EMPTY_HASH)).length === 0);
  check('attachment refused: wrong id, key, header, altered byte, truncated, hash mismatch', () =>
    c.attachDecrypt(docSmall, AK, AH, seq(0xc1, 16), docSmallHash) === null &&
    c.attachDecrypt(docSmall, seq(0x41, 32), AH, AID, docSmallHash) === null &&
    c.attachDecrypt(docSmall, AK, seq(0x61, 24), AID, docSmallHash) === null &&
    c.attachDecrypt(flip(docSmall, 20), AK, AH, AID, docSmallHash) === null &&
    c.attachDecrypt(docSmall.slice(0, 40), AK, AH, AID, docSmallHash) === null &&
    c.attachDecrypt(docSmall, AK, AH, AID, flip(docSmallHash, 0)) === null);
  check('attachment refused: final chunk missing, chunks reordered, chunk after the final', () => {
    const dec1 = c.attachDecInit(AK, AH, AID);
    const r1 = dec1.pull(big.chunks[0]) !== null && !dec1.finish(big.hash);
    const dec2 = c.attachDecInit(AK, AH, AID);
    const r2 = dec2.pull(big.chunks[1]) === null && !dec2.finish(big.hash);
    const dec3 = c.attachDecInit(AK, AH, AID);
    const r3 = dec3.pull(big.chunks[0]) !== null && dec3.pull(big.chunks[1]) !== null &&
      dec3.pull(big.chunks[1]) === null && !dec3.finish(big.hash);
    return r1 && r2 && r3 && hex(c.attachDecrypt(big.blob, AK, AH, AID, big.hash)) === hex(bigPlain);
  });
  check('a fresh attachment key and header per file', () => {
    const k1 = c.attachKeygen(), k2 = c.attachKeygen();
    const a = c.attachEncrypt(bigPlain, k1, AID), b = c.attachEncrypt(bigPlain, k1, AID);
    return hex(k1) !== hex(k2) && hex(a.header) !== hex(b.header) &&
      hex(c.attachDecrypt(a.blob, k1, a.header, AID, a.hash)) === hex(bigPlain);
  });

  return { values: V, checks, timings };
}
