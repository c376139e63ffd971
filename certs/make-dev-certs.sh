#!/usr/bin/env bash
# make-dev-certs.sh — a development CA and a localhost server certificate for
# liaisond, in certs/dev/. For development and tests only: see certs/README.md.
# Idempotent: does nothing when the certificate still verifies against the CA
# and is valid for at least 30 more days.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${LSN_CERTS_DIR:-$here/dev}"
ca_days=3650
server_days=825
renew_margin_s=$((30 * 24 * 3600))

ca_key="$out/ca.key"
ca_crt="$out/ca.crt"
srv_key="$out/server.key"
srv_crt="$out/server.crt"

certs_are_fine() {
	[[ -s "$ca_key" && -s "$ca_crt" && -s "$srv_key" && -s "$srv_crt" ]] || return 1
	openssl verify -CAfile "$ca_crt" -purpose sslserver "$srv_crt" >/dev/null 2>&1 || return 1
	openssl x509 -in "$srv_crt" -noout -checkend "$renew_margin_s" >/dev/null 2>&1 || return 1
	openssl x509 -in "$ca_crt" -noout -checkend "$renew_margin_s" >/dev/null 2>&1 || return 1
	# the key must match the certificate
	[[ "$(openssl pkey -in "$srv_key" -pubout 2>/dev/null)" == \
	   "$(openssl x509 -in "$srv_crt" -noout -pubkey 2>/dev/null)" ]] || return 1
}

if certs_are_fine; then
	echo "make-dev-certs: $out is up to date"
	exit 0
fi

command -v openssl >/dev/null || { echo "make-dev-certs: openssl is not installed" >&2; exit 1; }
mkdir -p "$out"
chmod 0755 "$out"
umask 077
tmp="$(mktemp -d "$out/.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# Keep a still-valid CA (clients may already trust it); otherwise make a new one.
if [[ -s "$ca_key" && -s "$ca_crt" ]] &&
   openssl x509 -in "$ca_crt" -noout -checkend "$renew_margin_s" >/dev/null 2>&1 &&
   [[ "$(openssl pkey -in "$ca_key" -pubout 2>/dev/null)" == \
      "$(openssl x509 -in "$ca_crt" -noout -pubkey 2>/dev/null)" ]]; then
	cp "$ca_key" "$tmp/ca.key"
	cp "$ca_crt" "$tmp/ca.crt"
else
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-pkeyopt ec_param_enc:named_curve -out "$tmp/ca.key" 2>/dev/null
	openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days "$ca_days" \
		-subj "/O=Liaison/CN=Liaison development CA — not for production" \
		-utf8 \
		-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" \
		-out "$tmp/ca.crt"
fi

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-pkeyopt ec_param_enc:named_curve -out "$tmp/server.key" 2>/dev/null
openssl req -new -key "$tmp/server.key" -subj "/O=Liaison/CN=localhost" \
	-out "$tmp/server.csr"
cat >"$tmp/server.ext" <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EXT
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" \
	-CAcreateserial -CAserial "$tmp/ca.srl" -sha256 -days "$server_days" \
	-extfile "$tmp/server.ext" -out "$tmp/server.crt" 2>/dev/null

openssl verify -CAfile "$tmp/ca.crt" -purpose sslserver "$tmp/server.crt" >/dev/null

chmod 0600 "$tmp/ca.key" "$tmp/server.key"
chmod 0644 "$tmp/ca.crt" "$tmp/server.crt"
for f in ca.key ca.crt server.key server.crt; do
	mv -f "$tmp/$f" "$out/$f"
done
echo "make-dev-certs: wrote a development CA and a localhost certificate to $out"
