// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What tlsgen prints at the end of a connection: one JSON object (--json)
 * or a short summary, each install with the records and bytes after its
 * point (what the device must have decrypted or encrypted), keys only with
 * --show-keys (the hex buffers zeroed after printing).
 */
#include <stdio.h>
#include <openssl/crypto.h>
#include "common.h"
#include "tlsgen.h"

static void json_install(const char *dir, const struct tg_install *in, bool show_keys,
			 bool *first)
{
	char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN];

	if (!in->done)
		return;
	format_endpoint(src, in->flow.saddr, in->flow.sport);
	format_endpoint(dst, in->flow.daddr, in->flow.dport);
	/* stream_record/stream_offset: where the install point is in the
	 * direction's byte stream (records and bytes from the first after the
	 * SYN), the numbering loss tools on the wire use (tlsloss header:K). */
	printf("%s{\"dir\":\"%s\",\"src\":\"%s\",\"dst\":\"%s\",\"tcp_seq\":%u,\"rec_seq\":%llu,"
	       "\"records\":%llu,\"bytes\":%llu,\"stream_record\":%llu,\"stream_offset\":%llu",
	       *first ? "" : ",", dir, src, dst, in->tcp_seq, (unsigned long long)in->rec_sn,
	       (unsigned long long)in->records, (unsigned long long)in->bytes,
	       (unsigned long long)in->start_index, (unsigned long long)in->start_off);
	if (show_keys) {
		char key[65], iv[25], salt[9];

		print_hex(key, in->crypto.key, in->crypto.key_len);
		print_hex(iv, in->crypto.iv, in->crypto.iv_len);
		print_hex(salt, in->crypto.salt, in->crypto.salt_len);
		printf(",\"key\":\"%s\",\"iv\":\"%s\",\"salt\":\"%s\"", key, iv, salt);
		OPENSSL_cleanse(key, sizeof(key));
		OPENSSL_cleanse(iv, sizeof(iv));
		OPENSSL_cleanse(salt, sizeof(salt));
	}
	printf("}");
	*first = false;
}

static void text_install(const char *dir, const struct tg_install *in, bool show_keys)
{
	char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN];

	if (!in->done)
		return;
	format_endpoint(src, in->flow.saddr, in->flow.sport);
	format_endpoint(dst, in->flow.daddr, in->flow.dport);
	printf("installed %s %s %s tcp_seq %u rec_seq %llu: %llu records %llu bytes after it\n",
	       dir, src, dst, in->tcp_seq, (unsigned long long)in->rec_sn,
	       (unsigned long long)in->records, (unsigned long long)in->bytes);
	if (show_keys) {
		char key[65], iv[25], salt[9];

		print_hex(key, in->crypto.key, in->crypto.key_len);
		print_hex(iv, in->crypto.iv, in->crypto.iv_len);
		print_hex(salt, in->crypto.salt, in->crypto.salt_len);
		printf("    key %s iv %s salt %s\n", key, iv, in->crypto.salt_len ? salt : "-");
		OPENSSL_cleanse(key, sizeof(key));
		OPENSSL_cleanse(iv, sizeof(iv));
		OPENSSL_cleanse(salt, sizeof(salt));
	}
}

void report(const struct tg_opts *o, const struct tg_result *r)
{
	if (o->json) {
		bool first = true;

		printf("{\"role\":\"%s\",\"mode\":\"%s\",\"tls\":\"%s\",\"cipher\":\"%s\","
		       "\"local\":\"%s\",\"remote\":\"%s\",\"bytes\":%llu,\"records\":%llu,"
		       "\"record_size\":%u,\"write_size\":%u,"
		       "\"records_out\":%llu,\"records_in\":%llu,\"wire_bytes_out\":%llu,"
		       "\"wire_bytes_in\":%llu,\"truth\":%llu,\"verified\":%u,\"elapsed\":%.6f",
		       r->client ? "client" : "server", r->sender ? "sender" : "receiver",
		       version_name(o->version), cipher_name(o->cipher), r->local, r->remote,
		       (unsigned long long)r->app_bytes, (unsigned long long)r->app_records,
		       o->record_size, o->write_size,
		       (unsigned long long)r->records_out, (unsigned long long)r->records_in,
		       (unsigned long long)r->wire_out, (unsigned long long)r->wire_in,
		       (unsigned long long)r->truth, r->verified, r->elapsed);
		if (r->retrans >= 0)
			printf(",\"retrans\":%lld", r->retrans);
		printf(",\"installs\":[");
		json_install("rx", &r->rx, o->show_keys, &first);
		json_install("tx", &r->tx, o->show_keys, &first);
		printf("]}\n");
	} else {
		printf("%s %s %s -> %s tls %s %s: %llu bytes in %llu records, %.3f s\n",
		       r->client ? "client" : "server", r->sender ? "sent" : "received",
		       r->sender ? r->local : r->remote, r->sender ? r->remote : r->local,
		       version_name(o->version), cipher_name(o->cipher),
		       (unsigned long long)r->app_bytes, (unsigned long long)r->app_records,
		       r->elapsed);
		printf("records out %llu in %llu, wire bytes out %llu in %llu",
		       (unsigned long long)r->records_out, (unsigned long long)r->records_in,
		       (unsigned long long)r->wire_out, (unsigned long long)r->wire_in);
		if (r->retrans >= 0)
			printf(", retransmits %lld", r->retrans);
		printf("\n");
		text_install("rx", &r->rx, o->show_keys);
		text_install("tx", &r->tx, o->show_keys);
		if (o->truth && r->sender)
			printf("truth: %llu record starts published\n", (unsigned long long)r->truth);
	}
	if (r->verified) {
		printf("verify: %u records decrypted with the installed parameters\n", r->verified);
		printf("verify: a wrong key, salt, iv or record number fails\n");
	}
	fflush(stdout);
}
