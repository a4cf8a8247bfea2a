// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * --verify: decrypt records with the parameters given to the device, with
 * EVP's AEAD directly (not OpenSSL's record layer), so a wrong key, salt,
 * iv or record number fails the tag check.
 *   TLS 1.2 AES-GCM (RFC 5288): nonce = salt || explicit nonce (the first 8
 *     body bytes), AAD = seq || type || version || plaintext length.
 *   TLS 1.2 ChaCha20 (RFC 7905): nonce = iv XOR seq, same AAD.
 *   TLS 1.3 (RFC 8446 5.2/5.3): nonce = (salt || iv) XOR seq, AAD = the
 *     record header; the plaintext ends with the inner content type.
 */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "tlsgen.h"

#define TAG_LEN 16

static const EVP_CIPHER *aead(uint16_t cipher)
{
	switch (cipher) {
	case TLSHIM_CIPHER_AES_GCM_128: return EVP_aes_128_gcm();
	case TLSHIM_CIPHER_AES_GCM_256: return EVP_aes_256_gcm();
	default: return EVP_chacha20_poly1305();
	}
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (56 - 8 * i);
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* One record; returns NULL or why it failed. */
static const char *open_record(const struct tlshim_crypto *c, uint8_t *rec, uint32_t len,
			       uint64_t sn)
{
	bool tls12 = c->version == TLSHIM_TLS_1_2;
	bool explicit = tls12 && c->cipher != TLSHIM_CIPHER_CHACHA20_POLY1305;
	uint32_t body = len - TLS_HEADER_SIZE, ct_off = TLS_HEADER_SIZE + (explicit ? 8 : 0);
	uint8_t nonce[12], aad[13], seq[8], pt[TLS_MAX_PAYLOAD_SIZE + 256];
	const char *why = NULL;
	EVP_CIPHER_CTX *ctx;
	int outl, ct_len, aad_len;

	if (body < (explicit ? 8u : 0u) + TAG_LEN + (tls12 ? 0 : 1))
		return "record too short for the cipher";
	ct_len = len - ct_off - TAG_LEN;
	if (ct_len > (int)sizeof(pt))
		return "record too long";
	be64(seq, sn);
	if (explicit) {
		uint64_t want = get_be64(c->iv) + (sn - get_be64(c->rec_seq));

		if (get_be64(rec + TLS_HEADER_SIZE) != want)
			return "explicit nonce on the wire is not iv + (record - rec_seq)";
		memcpy(nonce, c->salt, 4);
		memcpy(nonce + 4, rec + TLS_HEADER_SIZE, 8);
	} else {
		if (c->cipher == TLSHIM_CIPHER_CHACHA20_POLY1305) {
			memcpy(nonce, c->iv, 12);
		} else {
			memcpy(nonce, c->salt, 4);
			memcpy(nonce + 4, c->iv, 8);
		}
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= seq[i];
	}
	if (tls12) {
		memcpy(aad, seq, 8);
		memcpy(aad + 8, rec, 3);		/* type, version */
		aad[11] = ct_len >> 8;
		aad[12] = ct_len & 0xff;
		aad_len = 13;
	} else {
		memcpy(aad, rec, TLS_HEADER_SIZE);
		aad_len = TLS_HEADER_SIZE;
	}
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx ||
	    EVP_DecryptInit_ex(ctx, aead(c->cipher), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, c->key, nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &outl, aad, aad_len) != 1 ||
	    EVP_DecryptUpdate(ctx, pt, &outl, rec + ct_off, ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
				rec + len - TAG_LEN) != 1)
		why = "EVP setup failed";
	else if (EVP_DecryptFinal_ex(ctx, pt + outl, &outl) != 1)
		why = "the tag does not verify";
	else if (!tls12) {
		int i = ct_len - 1;

		while (i >= 0 && pt[i] == 0)
			i--;	/* zero padding, then the inner content type */
		if (i < 0 || (pt[i] != TLS_CT_APPLICATION_DATA && pt[i] != TLS_CT_ALERT))
			why = "decrypted, but the inner content type is not data or alert";
	}
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(pt, sizeof(pt));
	return why;
}

/* Negative controls on the first record: each parameter off by one bit (or
 * the record number off by one) must fail, or a pass would prove nothing. */
static void controls(const struct tlshim_crypto *c, uint8_t *rec, uint32_t len, uint64_t sn)
{
	static const char *const what[] = { "key", "salt", "iv", "record number" };
	struct tlshim_crypto bad;

	for (int k = 0; k < 4; k++) {
		uint64_t bad_sn = sn;

		bad = *c;
		if (k == 0)
			bad.key[0] ^= 1;
		else if (k == 1 && c->salt_len)
			bad.salt[0] ^= 1;
		else if (k == 1)
			continue;	/* ChaCha20 has no salt */
		else if (k == 2)
			bad.iv[c->iv_len - 1] ^= 1;
		else
			bad_sn++;
		if (!open_record(&bad, rec, len, bad_sn))
			tg_die("verify FAILED: record %llu also decrypts with a wrong %s",
			       (unsigned long long)sn, what[k]);
	}
	OPENSSL_cleanse(&bad, sizeof(bad));
}

unsigned int verify_records(const struct tlshim_crypto *c, uint8_t *const *recs,
			    const uint32_t *lens, unsigned int n, uint64_t first_sn)
{
	for (unsigned int i = 0; i < n; i++) {
		const char *why = open_record(c, recs[i], lens[i], first_sn + i);

		if (why)
			tg_die("verify FAILED: record %llu (%u bytes): %s",
			       (unsigned long long)(first_sn + i), lens[i], why);
	}
	if (n)
		controls(c, recs[0], lens[0], first_sn);
	return n;
}
