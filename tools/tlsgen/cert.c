// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The server's identity: a fresh ECDSA P-256 key and a self-signed
 * certificate made in memory at startup (no files).  ECDSA rather than RSA
 * because generating it takes microseconds; the TLS 1.2 suites are the
 * ECDHE-ECDSA ones accordingly.  Clients do not verify it: tlsgen makes
 * traffic, it does not authenticate anybody.
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "tlsgen.h"

void cert_make(SSL_CTX *ctx)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;

	if (!pkey || !x)
		tg_die("cannot generate the certificate key");
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pkey);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"tlsgen",
				   -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (!X509_sign(x, pkey, EVP_sha256()))
		tg_die("cannot sign the certificate");
	if (SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, pkey) != 1)
		tg_die("OpenSSL refused the generated certificate");
	X509_free(x);
	EVP_PKEY_free(pkey);
}
