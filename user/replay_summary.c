// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* replay's per-connection summary, after the counters. */
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "replay.h"
#include "seg_json.h"

void replay_summary(struct replay *r, bool json)
{
	for (int i = 0; i < r->nconns; i++) {
		struct rconn *c = &r->conns[i];
		struct tlshim_conn conn = {};
		struct tlshim_tx_conn *tx = NULL;
		char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN];
		const struct tlshim_stream *st = &conn.st;
		uint64_t done, passed, arrived, offloaded;

		bpf_map_lookup_elem_flags(r->m.conns, &c->spec.flow, &conn, BPF_F_LOCK);
		if (c->spec.flow.dir == TLSHIM_DIR_TX && (tx = tx_conn_read(&r->m, &c->spec.flow)))
			st = &tx->parser;
		format_endpoint(src, c->spec.flow.saddr, c->spec.flow.sport);
		format_endpoint(dst, c->spec.flow.daddr, c->spec.flow.dport);
		replay_records_count(c, &arrived, &offloaded);
		done = tx ? tx->stats.encrypted_packets : conn.stats.decrypted_packets;
		passed = tx ? tx->stats.untracked + tx->stats.skip_no_sync_data : conn.stats.passed_packets;
		if (json) {
			printf("{\"conn\":{\"dir\":\"%s\",\"src\":\"%s\",\"dst\":\"%s\",\"version\":\"%s\","
			       "\"cipher\":\"%s\",\"resync\":\"%s\",\"tcp_seq\":%u,\"rec_seq\":%llu,"
			       "\"auto\":%s,\"rec_seq_relative\":%s,\"packets\":%llu,\"injected\":%llu,"
			       "\"%s_packets\":%llu,\"%s_bytes\":%llu,\"passed_packets\":%llu,"
			       "\"records\":%llu,\"lost_sync\":%llu,\"resync_requests\":%llu,"
			       "\"resync_confirmed\":%llu,\"truth_records\":%zu,\"records_arrived\":%llu,"
			       "\"records_offloaded\":%llu,\"state\":\"%s\"}}\n",
			       dir_name(c->spec.flow.dir), src, dst, version_name(c->spec.version),
			       cipher_name(c->spec.cipher), policy_name(conn.st.policy), c->spec.tcp_seq,
			       (unsigned long long)c->spec.rec_seq, c->is_auto ? "true" : "false",
			       c->relative ? "true" : "false", (unsigned long long)c->packets,
			       (unsigned long long)c->injected, tx ? "encrypted" : "decrypted",
			       (unsigned long long)done, tx ? "encrypted" : "decrypted",
			       (unsigned long long)(tx ? tx->stats.encrypted_bytes : conn.stats.decrypted_bytes),
			       (unsigned long long)passed,
			       (unsigned long long)(tx ? tx->stats.records : conn.stats.records),
			       (unsigned long long)(tx ? tx->stats.lost_sync : conn.stats.lost_sync),
			       (unsigned long long)conn.stats.resync_requests,
			       (unsigned long long)conn.stats.resync_confirmed, c->truth_records,
			       (unsigned long long)arrived, (unsigned long long)offloaded,
			       sync_name(st->sync));
		} else {
			printf("%s %s %s tls %s %s resync %s from tcp-seq %u rec-seq %llu%s%s\n"
			       "    packets %llu (injected drops %llu), %s %llu (%llu bytes), passed %llu, "
			       "records %llu, lost sync %llu, resync requests %llu confirmed %llu, "
			       "truth %zu records, state %s\n",
			       dir_name(c->spec.flow.dir), src, dst, version_name(c->spec.version),
			       cipher_name(c->spec.cipher), policy_name(conn.st.policy), c->spec.tcp_seq,
			       (unsigned long long)c->spec.rec_seq, c->is_auto ? " (auto" : "",
			       c->is_auto ? (c->relative ? ", rec-seq relative: counted from the first "
					     "record after the client's Finished)" : ")") : "",
			       (unsigned long long)c->packets, (unsigned long long)c->injected,
			       tx ? "encrypted" : "decrypted", (unsigned long long)done,
			       (unsigned long long)(tx ? tx->stats.encrypted_bytes : conn.stats.decrypted_bytes),
			       (unsigned long long)passed,
			       (unsigned long long)(tx ? tx->stats.records : conn.stats.records),
			       (unsigned long long)(tx ? tx->stats.lost_sync : conn.stats.lost_sync),
			       (unsigned long long)conn.stats.resync_requests,
			       (unsigned long long)conn.stats.resync_confirmed, c->truth_records,
			       sync_name(st->sync));
			if (arrived)
				printf("    records fully offloaded %llu of %llu that arrived whole (%.1f%%): "
				       "every byte's first arrival decrypted\n",
				       (unsigned long long)offloaded, (unsigned long long)arrived,
				       100.0 * offloaded / arrived);
		}
		free(tx);
	}
}

