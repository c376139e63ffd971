#!/usr/bin/env python3
"""doc_vectors.py — reads the expected values of every test vector from
docs/CRYPTO.md (tables, hex blocks and inline values) and prints them as one
JSON object, so that tests/web/test_crypto.mjs checks the browser code
against the document itself, never against values computed by that code.

It also runs tests/unit/crypto_vectors.py (the recomputation without
libsodium) and reports, under "_crosscheck", every name both give and the
names on which they differ.

Usage: python3 tests/web/doc_vectors.py SOURCE_ROOT
"""
import json, re, subprocess, sys

root = sys.argv[1] if len(sys.argv) > 1 else '.'
doc = open(f'{root}/docs/CRYPTO.md', encoding='utf-8').read()


def row(label):
    """The one backquoted value in the last cell of the table row starting with label."""
    m = re.search(r'^\| ' + re.escape(label) + r'.*$', doc, re.M)
    if not m:
        sys.exit(f'doc_vectors: no table row "{label}" in CRYPTO.md')
    cells = m.group(0).strip().strip('|').split('|')
    vals = re.findall(r'`([^`]+)`', cells[-1])
    if len(vals) != 1:
        sys.exit(f'doc_vectors: row "{label}" has {len(vals)} values')
    return vals[0]


def block(title):
    """The hex of the first code block after title (leading hex tokens of each line)."""
    i = doc.index(title)
    j = doc.index('```\n', i) + 4
    k = doc.index('```', j)
    h = ''
    for line in doc[j:k].splitlines():
        for tok in line.split():
            if re.fullmatch(r'[0-9a-f]+', tok) and len(tok) % 2 == 0:
                h += tok
            else:
                break
    return h


def inline(pattern):
    m = re.search(pattern, doc)
    if not m:
        sys.exit(f'doc_vectors: no match for {pattern}')
    return m.group(1)


v = {}
v['LOCAL_KEY'] = row('passphrase `correct horse battery staple`, salt `liaison-salt-16b` (ASCII, 16 bytes), t = 2')
v['DB_KEY'] = row('local key `2facd173…8c6894`')
v['INVITE_TEXT'] = row('raw = `000102030405060708090a0b0c0d0e`')
v['INVITE_HASH'] = row('same raw')
v['INVITE_ZEROS'] = row('raw = 15 × `00`')
v['INVITE_FF'] = row('raw = 15 × `ff`')
v['DEV_CERT'] = block('**Device certificate** (signed by IK)')
v['AK_CERT'] = block('**AK certificate** (signed by DK)')
v['LOGIN'] = block('**Login** (signed by DK)')
v['REVOKE'] = block('**Revocation** (signed by IK)')
v['SIG_DEV_CERT'] = row('device certificate |')
v['SIG_AK_CERT'] = row('AK certificate |')
v['SIG_LOGIN'] = row('login |')
v['SIG_REVOKE'] = row('revocation |')
v['IK_A'] = row('its public key')
v['MLOG_E0'] = row('e0 = create')
v['MLOG_H0'] = row('BLAKE2b-256(e0)')
v['MLOG_SIG0'] = row('signature of e0')
v['MLOG_E1'] = row('e1 = add')
v['MLOG_H1'] = row('BLAKE2b-256(e1)')
v['MLOG_SIG1'] = row('signature of e1')
v['MLOG_E2'] = row('e2 signed bytes')
v['MLOG_H2'] = row('BLAKE2b-256(e2)')
for i in range(3):
    v['MLOG_HEAD_%d' % i] = row('head after e%d' % i)
v['FPR_A'] = row('user A, rpps `10003456786`')
v['FPR_A_NORPPS'] = row('user A, rpps empty')
v['FPR_B'] = row('user B, rpps empty')
v['SAFETY'] = row('safety number of A and B')
v['AK_B_PK'] = row('AK_B_pk |'); v['E_PK'] = row('E_pk |'); v['KS_Q'] = row('X25519(E_sk, AK_B_pk)'); v['KS_K'] = row('K (= client tx = server rx)')
v['KS_ENV'] = block('Envelope (289 bytes)')
for n in ['MK_0','CK_1','MK_1','CK_2','MK_2','CK_3','CK_100']:
    v[n] = row(n + ' |')
v['GS_ENV'] = block('Envelope (228 bytes)')
v['GS_ENV_HASH'] = inline(r'BLAKE2b-256 of the envelope \(duplicate detection\):\n`([0-9a-f]{64})`')
v['LINK'] = inline(r'"link":"([0-9a-f]{64})"')
v['BK'] = row('BK |'); v['IKK'] = row('IKK |'); v['RK_SUM'] = row('checksum (first 3 bytes'); v['RCODE'] = row('recovery code |')
v['RK_PASS'] = row('RK from passphrase')
v['BK_ENTRY'] = block('Entry (76 bytes)')
v['BK_AD'] = inline(r'over AD \(87 bytes\)\n`([0-9a-f]+)`')
v['IK_BLOB'] = block('Blob (105 bytes)')
v['IK_AD'] = inline(r'over AD \(70 bytes\)\n`([0-9a-f]+)`')
m = re.findall(r'^\| (`Lettre[^|]*|empty, one final chunk |65546 bytes[^|]*)\| ([^|]*)\| `([0-9a-f]{64})` \|$', doc, re.M)
if len(m) != 3:
    sys.exit('doc_vectors: the attachment table does not have its 3 rows')
v['AT_SMALL_CT'] = re.search(r'`([0-9a-f]+)`', m[0][1]).group(1); v['AT_SMALL_HASH'] = m[0][2]
m = sorted(m, key=lambda r: ('Lettre' not in r[0], 'empty' not in r[0]))
v['AT_EMPTY_CT'] = re.search(r'`([0-9a-f]+)`', m[1][1]).group(1); v['AT_EMPTY_HASH'] = m[1][2]
h = re.findall(r'`([0-9a-f]+)`', m[2][1]); v['AT_BIG_C0_HEAD'], v['AT_BIG_C1'] = h; v['AT_BIG_HASH'] = m[2][2]

# the sizes the document states, so that a block read short is an error here
for name, n in (('KS_ENV', 289), ('GS_ENV', 228), ('BK_ENTRY', 76), ('IK_BLOB', 105), ('DEV_CERT', 90),
                ('AK_CERT', 89), ('LOGIN', 97), ('REVOKE', 61), ('BK_AD', 87), ('IK_AD', 70)):
    if len(v[name]) != 2 * n:
        sys.exit(f'doc_vectors: {name} is {len(v[name]) // 2} bytes, the document says {n}')

py = {}
run = subprocess.run([sys.executable, f'{root}/tests/unit/crypto_vectors.py'], capture_output=True, text=True)
if run.returncode == 0:
    py = dict(l.split(' = ', 1) for l in run.stdout.splitlines() if ' = ' in l)
both = sorted(k for k in v if k in py)
v['_crosscheck'] = {'ran': run.returncode == 0, 'both': both, 'differ': [k for k in both if py[k] != v[k]],
                    'error': run.stderr[-400:] if run.returncode else ''}
json.dump(v, sys.stdout, indent=1)
print()
