/* tls_suites.h — the TLS versions and suites liaisond and liaison accept
 * (docs/THREAT-MODEL.md, "Transport"): TLS 1.3 with its AEAD suites
 * whenever both sides have it (OpenSSL picks the highest common version),
 * else TLS 1.2 with ECDHE and AES-GCM or ChaCha20-Poly1305 only — no CBC,
 * no RSA key transport, no SHA-1 MAC, nothing older than TLS 1.2. */
#ifndef LSN_TLS_SUITES_H
#define LSN_TLS_SUITES_H

#define LSN_TLS12_CIPHERS \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:" \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256"
#define LSN_TLS13_CIPHERS \
	"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
/* SSL_OP_* bits (OpenSSL) both sides set: no SSLv3, TLS 1.0 or 1.1, no
 * compression, no renegotiation. */
#define LSN_TLS_OPTIONS \
	(SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_COMPRESSION | \
	 SSL_OP_NO_RENEGOTIATION)

#endif
