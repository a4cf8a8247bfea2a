// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Traffic keys from the secrets OpenSSL hands to the keylog callback, in
 * the layout of the kernel's tls12_crypto_info_* (as `tlshim conn add`
 * takes them):
 *   TLS 1.3: {CLIENT,SERVER}_TRAFFIC_SECRET_0 -> HKDF-Expand-Label "key"
 *            and "iv" (RFC 8446 7.3) with the suite's hash; AES-GCM: salt =
 *            iv[0..4), iv = iv[4..12); ChaCha20: iv = all 12.
 *   TLS 1.2: the master secret (CLIENT_RANDOM line) -> PRF "key expansion"
 *            with server_random + client_random (RFC 5246 6.3): client key,
 *            server key, client IV, server IV (AEAD: no MAC keys); AES-GCM:
 *            salt = the 4-byte IV, iv = the explicit nonce (from the wire,
 *            filled by the caller); ChaCha20 (RFC 7905): iv = the 12-byte IV.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include "tlsgen.h"

#define SECRET_MAX 64

static struct {
	uint8_t master[48];
	bool have_master;
	uint8_t client_ts[SECRET_MAX], server_ts[SECRET_MAX];
	size_t client_ts_len, server_ts_len;
} secrets;

void keys_forget(void)
{
	OPENSSL_cleanse(&secrets, sizeof(secrets));
}

static size_t unhex(const char *s, size_t slen, uint8_t *out, size_t max)
{
	size_t n = slen / 2;

	if (slen % 2 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return 0;
		out[i] = b;
	}
	return n;
}

/* "LABEL CLIENT_RANDOM_HEX SECRET_HEX" (NSS key log format). */
void keys_keylog_cb(const SSL *ssl, const char *line)
{
	const char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	size_t label_len, hex_len;
	const char *hex;

	if (!sp2)
		return;
	label_len = sp1 - line;
	hex = sp2 + 1;
	hex_len = strcspn(hex, " \n");
	if (label_len == 13 && !memcmp(line, "CLIENT_RANDOM", 13))
		secrets.have_master = unhex(hex, hex_len, secrets.master, 48) == 48;
	else if (label_len == 23 && !memcmp(line, "CLIENT_TRAFFIC_SECRET_0", 23))
		secrets.client_ts_len = unhex(hex, hex_len, secrets.client_ts, SECRET_MAX);
	else if (label_len == 23 && !memcmp(line, "SERVER_TRAFFIC_SECRET_0", 23))
		secrets.server_ts_len = unhex(hex, hex_len, secrets.server_ts, SECRET_MAX);
}

static const char *suite_digest(uint16_t cipher)
{
	return cipher == TLSHIM_CIPHER_AES_GCM_256 ? "SHA384" : "SHA256";
}

static size_t key_len(uint16_t cipher)
{
	return cipher == TLSHIM_CIPHER_AES_GCM_128 ? 16 : 32;
}

/* HKDF-Expand-Label(secret, label, "", len) with HKDF in expand-only mode
 * and the HkdfLabel structure built here. */
static void expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
			 const char *label, uint8_t *out, size_t len)
{
	uint8_t info[2 + 1 + 6 + 16 + 1];
	size_t llen = strlen(label), ilen = 0;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5];

	info[ilen++] = len >> 8;
	info[ilen++] = len & 0xff;
	info[ilen++] = 6 + llen;
	memcpy(info + ilen, "tls13 ", 6);
	ilen += 6;
	memcpy(info + ilen, label, llen);
	ilen += llen;
	info[ilen++] = 0;	/* empty context */
	params[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret,
						      secret_len);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, ilen);
	params[4] = OSSL_PARAM_construct_end();
	if (!kctx || EVP_KDF_derive(kctx, out, len, params) <= 0)
		tg_die("HKDF-Expand-Label \"%s\" failed", label);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
}

/* PRF(master, "key expansion", server_random + client_random). */
static void key_block(SSL *ssl, const char *digest, uint8_t *out, size_t len)
{
	uint8_t seed[64];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5];
	static char label[] = "key expansion";

	if (SSL_get_server_random(ssl, seed, 32) != 32 ||
	    SSL_get_client_random(ssl, seed + 32, 32) != 32)
		tg_die("cannot read the handshake randoms");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, secrets.master, 48);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, label,
						      sizeof(label) - 1);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof(seed));
	params[4] = OSSL_PARAM_construct_end();
	if (!kctx || EVP_KDF_derive(kctx, out, len, params) <= 0)
		tg_die("TLS 1.2 PRF (key expansion) failed");
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
}

void keys_derive(SSL *ssl, bool client_write, uint16_t version, uint16_t cipher,
		 struct tlshim_crypto *c)
{
	size_t klen = key_len(cipher);
	bool chacha = cipher == TLSHIM_CIPHER_CHACHA20_POLY1305;

	memset(c, 0, sizeof(*c));
	c->version = version;
	c->cipher = cipher;
	c->key_len = klen;
	c->iv_len = chacha ? 12 : 8;
	c->salt_len = chacha ? 0 : 4;
	if (version == TLSHIM_TLS_1_3) {
		const uint8_t *ts = client_write ? secrets.client_ts : secrets.server_ts;
		size_t ts_len = client_write ? secrets.client_ts_len : secrets.server_ts_len;
		uint8_t iv[12];

		if (!ts_len)
			tg_die("OpenSSL logged no %s_TRAFFIC_SECRET_0", client_write ? "CLIENT" : "SERVER");
		expand_label(suite_digest(cipher), ts, ts_len, "key", c->key, klen);
		expand_label(suite_digest(cipher), ts, ts_len, "iv", iv, 12);
		if (chacha) {
			memcpy(c->iv, iv, 12);
		} else {
			memcpy(c->salt, iv, 4);
			memcpy(c->iv, iv + 4, 8);
		}
		OPENSSL_cleanse(iv, sizeof(iv));
	} else {
		size_t ivl = chacha ? 12 : 4, len = 2 * klen + 2 * ivl;
		uint8_t kb[2 * 32 + 2 * 12];
		const uint8_t *key = kb + (client_write ? 0 : klen);
		const uint8_t *fixed = kb + 2 * klen + (client_write ? 0 : ivl);

		if (!secrets.have_master)
			tg_die("OpenSSL logged no CLIENT_RANDOM (master secret)");
		key_block(ssl, suite_digest(cipher), kb, len);
		memcpy(c->key, key, klen);
		if (chacha)
			memcpy(c->iv, fixed, 12);
		else
			memcpy(c->salt, fixed, 4);
		OPENSSL_cleanse(kb, sizeof(kb));
	}
}

void keys_set_rec_seq(struct tlshim_crypto *c, uint64_t rec_sn)
{
	for (int i = 0; i < 8; i++)
		c->rec_seq[i] = rec_sn >> (56 - 8 * i);
}
