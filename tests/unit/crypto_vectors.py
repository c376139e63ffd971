#!/usr/bin/env python3
"""crypto_vectors.py — recomputes the test vectors of docs/CRYPTO.md (sections
"Fingerprint and safety number" to "Attachments") WITHOUT libsodium, so that
the C implementation in shared/ is checked against an independent one.

- BLAKE2b (fingerprints, crypto_kdf_derive_from_key, crypto_kx's session-key
  hash, envelope and blob hashes): python3's hashlib.
- Ed25519 and X25519: the OpenSSL 3 command line (openssl pkey / pkeyutl).
- ChaCha20, Poly1305, HChaCha20, XChaCha20-Poly1305 and libsodium's
  secretstream: written here from RFC 8439, draft-irtf-cfrg-xchacha-03 and
  libsodium 1.0.18's construction, and self-tested against the RFC vectors
  before anything is printed.
- Argon2id is not recomputed here: use the reference argon2 tool (see
  test_backup.c).

Usage: python3 tests/unit/crypto_vectors.py     (prints NAME = value lines)
"""
import hashlib, os, struct, subprocess, tempfile

# ---- ChaCha20 / Poly1305 / XChaCha20-Poly1305 / secretstream, from the specs

def rotl(v, c): return ((v << c) & 0xffffffff) | (v >> (32 - c))
def qr(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xffffffff; s[d] ^= s[a]; s[d] = rotl(s[d], 16)
    s[c] = (s[c] + s[d]) & 0xffffffff; s[b] ^= s[c]; s[b] = rotl(s[b], 12)
    s[a] = (s[a] + s[b]) & 0xffffffff; s[d] ^= s[a]; s[d] = rotl(s[d], 8)
    s[c] = (s[c] + s[d]) & 0xffffffff; s[b] ^= s[c]; s[b] = rotl(s[b], 7)
CONST = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
def rounds(s):
    for _ in range(10):
        qr(s,0,4,8,12); qr(s,1,5,9,13); qr(s,2,6,10,14); qr(s,3,7,11,15)
        qr(s,0,5,10,15); qr(s,1,6,11,12); qr(s,2,7,8,13); qr(s,3,4,9,14)
def chacha_block(key, counter, nonce12):
    init = CONST + list(struct.unpack('<8I', key)) + [counter] + list(struct.unpack('<3I', nonce12))
    s = init[:]; rounds(s)
    return struct.pack('<16I', *[(a + b) & 0xffffffff for a, b in zip(s, init)])
def chacha20_xor(key, nonce12, data, counter=0):
    out = bytearray()
    for i in range(0, len(data), 64):
        ks = chacha_block(key, counter + i // 64, nonce12)
        out += bytes(x ^ y for x, y in zip(data[i:i+64], ks))
    return bytes(out)
def hchacha20(key, n16):
    s = CONST + list(struct.unpack('<8I', key)) + list(struct.unpack('<4I', n16))
    rounds(s)
    return struct.pack('<8I', *(s[0:4] + s[12:16]))
def poly1305(key, msg):
    r = int.from_bytes(key[:16], 'little') & 0x0ffffffc0ffffffc0ffffffc0fffffff
    s = int.from_bytes(key[16:], 'little'); p = (1 << 130) - 5; acc = 0
    for i in range(0, len(msg), 16):
        blk = msg[i:i+16] + b'\x01'
        acc = (acc + int.from_bytes(blk, 'little')) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, 'little')
def pad16(x): return b'\0' * ((16 - len(x) % 16) % 16)
def chacha_aead_encrypt(key, nonce12, ad, pt):
    otk = chacha_block(key, 0, nonce12)[:32]
    ct = chacha20_xor(key, nonce12, pt, 1)
    mac = poly1305(otk, ad + pad16(ad) + ct + pad16(ct) + struct.pack('<QQ', len(ad), len(ct)))
    return ct + mac
def xchacha_aead_encrypt(key, nonce24, ad, pt):
    return chacha_aead_encrypt(hchacha20(key, nonce24[:16]), b'\0\0\0\0' + nonce24[16:], ad, pt)

def kdf(subkey_len, subkey_id, ctx, key):
    """crypto_kdf_derive_from_key = keyed BLAKE2b, salt = LE64(id) || 8 zero bytes,
    personal = context(8) || 8 zero bytes."""
    return hashlib.blake2b(b'', digest_size=subkey_len, key=key,
                           salt=struct.pack('<Q', subkey_id) + b'\0' * 8,
                           person=ctx.encode() + b'\0' * 8).digest()
def b2(x, n=32): return hashlib.blake2b(x, digest_size=n).digest()
def LP(x): return struct.pack('>H', len(x)) + x
def seq(start, n): return bytes((start + i) & 0xff for i in range(n))

class SecretStream:
    """libsodium crypto_secretstream_xchacha20poly1305 (1.0.18), push side."""
    def __init__(self, key, header):
        self.k = hchacha20(key, header[:16]); self.counter = 1; self.inonce = header[16:24]
    def push(self, m, ad, tag):
        nonce = struct.pack('<I', self.counter) + self.inonce
        otk = chacha_block(self.k, 0, nonce)[:32]
        block = bytearray(64); block[0] = tag
        block = chacha20_xor(self.k, nonce, bytes(block), 1)
        c = chacha20_xor(self.k, nonce, m, 2)
        # libsodium pads the message part with (0x10 - 64 + mlen) & 0xf bytes
        mac_in = ad + pad16(ad) + block + c + b'\0' * ((0x10 - 64 + len(m)) & 0xf) \
            + struct.pack('<QQ', len(ad), 64 + len(m))
        mac = poly1305(otk, mac_in)
        self.inonce = bytes(a ^ b for a, b in zip(self.inonce, mac[:8]))
        self.counter = (self.counter + 1) & 0xffffffff
        self.done = tag == 3  # FINAL (= PUSH|REKEY): rekeys, but nothing follows it
        assert self.counter != 0 and (tag in (0, 3))
        return block[:1] + c + mac

def selftest():
    # RFC 8439 §2.3.2 block function
    key = bytes(range(32)); nonce = bytes.fromhex('000000090000004a00000000')
    assert chacha_block(key, 1, nonce).hex().startswith('10f1e7e4d13b5915500fdd1fa32071c4')
    # RFC 8439 §2.5.2 Poly1305
    k = bytes.fromhex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b')
    assert poly1305(k, b'Cryptographic Forum Research Group').hex() == 'a8061dc1305136c6c22b8baf0c0127a9'
    # RFC 8439 §2.8.2 AEAD
    pt = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
          b"for the future, sunscreen would be it.")
    ad = bytes.fromhex('50515253c0c1c2c3c4c5c6c7'); key = seq(0x80, 32)
    out = chacha_aead_encrypt(key, bytes.fromhex('070000004041424344454647'), ad, pt)
    assert out[-16:].hex() == '1ae10b594f09e26a7e902ecbd0600691'
    assert out[:16].hex() == 'd31a8d34648e60db7b86afbc53ef7ec2'
    # draft-irtf-cfrg-xchacha-03 §2.2.1 HChaCha20 and A.3.1 AEAD_XChaCha20_Poly1305
    assert hchacha20(bytes.fromhex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'),
                     bytes.fromhex('000000090000004a0000000031415927')).hex() == \
        '82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc'
    out = xchacha_aead_encrypt(seq(0x80, 32), seq(0x40, 24), ad, pt)
    assert out[-16:].hex() == 'c0875924c1c7987947deafd8780acf49'
    assert out[:16].hex() == 'bd6d179d3e83d43b9576579493c0e939'
    # BLAKE2b KDF: libsodium's documented construction, cross-checked in test code
selftest()

# ---- Ed25519 and X25519 through OpenSSL (not libsodium)
ED_PREFIX = '302e020100300506032b657004220420'
X_PREFIX = '302e020100300506032b656e04220420'
def _pem(prefix, raw32, d):
    der = os.path.join(d, 'k.der'); pem = os.path.join(d, 'k.pem')
    open(der, 'wb').write(bytes.fromhex(prefix) + raw32)
    subprocess.run(['openssl', 'pkey', '-inform', 'DER', '-in', der, '-out', pem], check=True)
    return pem
def _pub(pem):
    return subprocess.run(['openssl', 'pkey', '-in', pem, '-pubout', '-outform', 'DER'],
                          check=True, capture_output=True).stdout[-32:]
def ed25519_pk(seed):
    with tempfile.TemporaryDirectory() as d: return _pub(_pem(ED_PREFIX, seed, d))
def ed25519_sign(seed, msg):
    with tempfile.TemporaryDirectory() as d:
        pem = _pem(ED_PREFIX, seed, d); m = os.path.join(d, 'm.bin'); open(m, 'wb').write(msg)
        return subprocess.run(['openssl', 'pkeyutl', '-sign', '-inkey', pem, '-rawin', '-in', m],
                              check=True, capture_output=True).stdout
def x25519_pk(sk):
    with tempfile.TemporaryDirectory() as d: return _pub(_pem(X_PREFIX, sk, d))
def x25519(sk, peer_pk):
    with tempfile.TemporaryDirectory() as d:
        pem = _pem(X_PREFIX, sk, d)
        # peer public key as SubjectPublicKeyInfo DER
        spki = os.path.join(d, 'p.der')
        open(spki, 'wb').write(bytes.fromhex('302a300506032b656e032100') + peer_pk)
        ppem = os.path.join(d, 'p.pem')
        subprocess.run(['openssl', 'pkey', '-pubin', '-inform', 'DER', '-in', spki, '-out', ppem], check=True)
        return subprocess.run(['openssl', 'pkeyutl', '-derive', '-inkey', pem, '-peerkey', ppem],
                              check=True, capture_output=True).stdout

# ---- the vectors

def luhn_ok(s):
    tot = 0
    for i, ch in enumerate(reversed(s)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9: d -= 9
        tot += d
    return tot % 10 == 0
RPPS = next(s for s in ('1000345678' + str(d) for d in range(10)) if luhn_ok(s))

USER_A, DEV_A, AK_ID_B = seq(0xa0, 16), seq(0xb0, 16), seq(0xc0, 16)
USER_B, DEV_B, CHANNEL = seq(0xd0, 16), seq(0xe0, 16), seq(0xf0, 16)
TS = 1763900000000
V = {}
def out(name, val):
    V[name] = val
    print(f'{name} = {val.hex() if isinstance(val, bytes) else val}')

# ---- §2 fingerprint
def fingerprint(user, rpps, ik):
    h = b2(b'liaison-fpr-v1' + LP(user) + LP(rpps.encode()) + ik)
    for _ in range(5199): h = b2(h + ik)
    return ''.join('%05d' % (int.from_bytes(h[5*c:5*c+5], 'big') % 100000) for c in range(6))
IK_A = ed25519_pk(seq(0x00, 32)); IK_B = ed25519_pk(seq(0x20, 32))
out('RPPS', RPPS); out('IK_A', IK_A); out('IK_B', IK_B)
fa = fingerprint(USER_A, RPPS, IK_A); fb = fingerprint(USER_B, '', IK_B)
out('FPR_A', fa); out('FPR_B', fb)
out('FPR_A_NORPPS', fingerprint(USER_A, '', IK_A))
sn = ' '.join((fa + fb)[i:i+5] for i in range(0, 60, 5)); out('SAFETY', sn)

# ---- §3 key share
DK_A_SEED = seq(0x00, 32); DK_A_PK = IK_A
AK_B_SK = seq(0x40, 32); AK_B_PK = x25519_pk(AK_B_SK)
E_SK = seq(0x60, 32); E_PK = x25519_pk(E_SK)
NONCE = seq(0x80, 24); SHARE_ID = seq(0x10, 16)
KS_PLAIN = b'{"type":"room_key","index":0}'
q = x25519(E_SK, AK_B_PK)
assert q == x25519(AK_B_SK, E_PK)
h = hashlib.blake2b(q + E_PK + AK_B_PK, digest_size=64).digest()
K = h[32:]   # client tx = server rx
out('AK_B_PK', AK_B_PK); out('E_PK', E_PK); out('KS_Q', q); out('KS_K', K)
AD = (b'liaison-ks-v1' + LP(USER_A) + LP(DEV_A) + LP(USER_B) + LP(DEV_B) + LP(AK_ID_B)
      + E_PK + SHARE_ID)
assert len(AD) == 151
ct = xchacha_aead_encrypt(K, NONCE, AD, KS_PLAIN)
sig = ed25519_sign(DK_A_SEED, b'liaison-ks-sig-v1' + AD + NONCE + ct)
env = bytes([1]) + AD + NONCE + struct.pack('>I', len(ct)) + ct + sig
out('KS_AD', AD); out('KS_CT', ct); out('KS_SIG', sig); out('KS_ENV', env)

# ---- §4 group session
S_SEED = seq(0x20, 32); S_PK = IK_B
CK = [seq(0x40, 32)]; MK = []
for i in range(3):
    MK.append(kdf(32, 1, 'lsn-mkey', CK[i])); CK.append(kdf(32, 2, 'lsn-ckey', CK[i]))
for i in range(3): out(f'MK_{i}', MK[i]); out(f'CK_{i+1}', CK[i+1])
CK_100 = CK[0]
for i in range(100): CK_100 = kdf(32, 2, 'lsn-ckey', CK_100)
out('CK_100', CK_100)
GS_PLAIN = b'Sortie prevue demain 10h, ordonnance jointe.'
H = b'LSN' + bytes([1]) + CHANNEL + S_PK + struct.pack('>I', 1) + DEV_A + struct.pack('>Q', TS)
assert len(H) == 80
ct = xchacha_aead_encrypt(MK[1], NONCE, H, GS_PLAIN)
sig = ed25519_sign(S_SEED, b'liaison-msg-sig-v1' + H + NONCE + ct)
genv = H + NONCE + ct + sig
out('GS_H', H); out('GS_CT', ct); out('GS_SIG', sig); out('GS_ENV', genv)
out('GS_ENV_HASH', b2(genv))

# ---- §7 backup
RK = seq(0x00, 32)
BK = kdf(32, 1, 'lsn-bkup', RK); IKK = kdf(32, 2, 'lsn-idnt', RK)
out('BK', BK); out('IKK', IKK)
A = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
raw = RK + b2(b'liaison-rk-v1' + RK)[:3]
n = int.from_bytes(raw, 'big')
s = ''.join(A[(n >> (280 - 5 * (i + 1))) & 31] for i in range(56))
out('RK_SUM', raw[32:]); out('RCODE', '-'.join(s[i:i+4] for i in range(0, 56, 4)))
BK_DATA = b'{"first_index":5,"chain_key":"..."}'
ad = b'liaison-backup-v1' + LP(USER_A) + CHANNEL + S_PK + struct.pack('>I', 5)
entry = bytes([1]) + NONCE + xchacha_aead_encrypt(BK, NONCE, ad, BK_DATA)
out('BK_AD', ad); out('BK_ENTRY', entry)
IK_SK = seq(0x00, 32) + IK_A
ad = b'liaison-backup-ik-v1' + LP(USER_A) + IK_A
ident = bytes([1]) + NONCE + xchacha_aead_encrypt(IKK, NONCE, ad, IK_SK)
out('IK_AD', ad); out('IK_BLOB', ident)

# ---- §7 local profile: the database key (SQLCipher's raw key), a subkey of
# the Argon2id local key of docs/CRYPTO.md's "Local key" vector
LOCAL_KEY = bytes.fromhex('2facd173d49584269b957282a662abe5d0ea48643b3c9660ef1415e7538c6894')
out('DB_KEY', kdf(32, 1, 'lsnprfdb', LOCAL_KEY))

# ---- §8 attachments
AKEY, AHDR, AID = seq(0x40, 32), seq(0x60, 24), seq(0xc0, 16)
def stream(plain):
    ss = SecretStream(AKEY, AHDR); chunks = []
    if not plain: return [ss.push(b'', AID, 3)]
    for i in range(0, len(plain), 65536):
        last = i + 65536 >= len(plain)
        chunks.append(ss.push(plain[i:i+65536], AID, 3 if last else 0))
    return chunks
AT_SMALL = b'Lettre de sortie: voir PDF joint.'
c = stream(AT_SMALL); out('AT_SMALL_CT', c[0]); out('AT_SMALL_HASH', b2(c[0]))
c = stream(b''); out('AT_EMPTY_CT', c[0]); out('AT_EMPTY_HASH', b2(c[0]))
big = bytes(i % 251 for i in range(65536 + 10))
c = stream(big); assert len(c) == 2
out('AT_BIG_C0_HEAD', c[0][:32]); out('AT_BIG_C1', c[1]); out('AT_BIG_HASH', b2(b''.join(c)))

# ---- §6 membership-log heads ("mlog" in messages and key shares)
# Entries as CRYPTO.md "Membership log" lays them out; channel d0…df, actor
# a0…af, actor device b0…bf, subject of add/remove e0…ef.
import base64
import json as _json
def mlog_bytes(seq_no, prev, action, subject, role, history, kind, ts):
    return (b'liaison-mlog-v1' + bytes([1]) + LP(seq(0xd0, 16)) + struct.pack('>Q', seq_no)
            + LP(prev) + LP(seq(0xa0, 16)) + LP(seq(0xb0, 16)) + bytes([action])
            + LP(subject) + bytes([role, history, kind]) + struct.pack('>Q', ts))
ML_E0 = mlog_bytes(0, b'', 1, seq(0xa0, 16), 2, 1, 1, 1763900000000)
ML_E1 = mlog_bytes(1, b2(ML_E0), 2, seq(0xe0, 16), 1, 0, 0, 1763900001000)
ML_E2 = mlog_bytes(2, b2(ML_E1), 3, seq(0xe0, 16), 0, 0, 0, 1763900002000)
out('MLOG_E2', ML_E2); out('MLOG_H2', b2(ML_E2))
for n, e in ((0, ML_E0), (1, ML_E1), (2, ML_E2)):
    out(f'MLOG_HEAD_{n}', _json.dumps({"seq": n, "hash": base64.b64encode(b2(e)).decode()},
                                      separators=(',', ':')))
