// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Per-segment JSON lines shared by the live trace and replay (seg_json.h). */
#include <string.h>
#include "seg_json.h"

const char *rx_reason_name(uint8_t reason)
{
	switch (reason) {
	case TLSHIM_PASS_NO_PAYLOAD: return "no-payload";
	case TLSHIM_PASS_OLD: return "old";
	case TLSHIM_PASS_PARTIAL: return "partial";
	case TLSHIM_PASS_GAP: return "gap";
	case TLSHIM_PASS_NOT_SYNCED: return "not-synced";
	case TLSHIM_PASS_BAD_HEADER: return "bad-header";
	case TLSHIM_PASS_CONTENDED: return "contended";
	case TLSHIM_PASS_DAMAGED: return "damaged";
	default: return NULL;
	}
}

const char *tx_verdict_name(uint8_t verdict)
{
	switch (verdict) {
	case TLSHIM_TX_ENCRYPTED: return "encrypted";
	case TLSHIM_TX_RESYNC: return "resync";
	case TLSHIM_TX_SKIP: return "skip";
	case TLSHIM_TX_DROP: return "drop";
	case TLSHIM_TX_UNTRACKED: return "untracked";
	default: return "no-payload";
	}
}

const char *tx_common_verdict(uint8_t verdict)
{
	switch (verdict) {
	case TLSHIM_TX_ENCRYPTED:
	case TLSHIM_TX_RESYNC: return "encrypted";
	case TLSHIM_TX_SKIP: return "skipped";
	case TLSHIM_TX_DROP: return "dropped";
	default: return "passed";
	}
}

const char *tx_drop_reason_name(uint8_t reason)
{
	switch (reason) {
	case TLSHIM_TX_DROP_STRADDLE: return "straddle";
	case TLSHIM_TX_DROP_ACKED: return "acked";
	case TLSHIM_TX_DROP_EVICTED: return "evicted";
	default: return NULL;
	}
}

void seg_line_from_event(struct seg_line *l, const struct tlshim_event *ev)
{
	memset(l, 0, sizeof(*l));
	l->index = -1;
	l->ts_ns = ev->ts_ns;
	l->flow = ev->flow;
	l->seq = ev->seq;
	l->len = ev->len;
	l->nheaders = ev->headers;
	l->state = sync_name(ev->sync);
	if (ev->flow.dir == TLSHIM_DIR_TX) {
		l->tx_verdict = tx_verdict_name(ev->verdict);
		l->verdict = tx_common_verdict(ev->verdict);
		l->reason = ev->verdict == TLSHIM_TX_UNTRACKED ? "untracked" :
			    tx_drop_reason_name(ev->reason);
		l->dump_bytes = ev->tx_dump_bytes;
		l->has_rec_sn = ev->verdict == TLSHIM_TX_ENCRYPTED || ev->verdict == TLSHIM_TX_RESYNC;
	} else {
		l->verdict = ev->verdict == TLSHIM_VERDICT_DECRYPTED ? "decrypted" : "passed";
		l->reason = rx_reason_name(ev->reason);
		/* The record of the segment's first byte is meaningful only where
		 * the device knew it: decrypted, or passed while in sync. */
		l->has_rec_sn = ev->verdict == TLSHIM_VERDICT_DECRYPTED ||
				ev->reason == TLSHIM_PASS_PARTIAL || ev->reason == TLSHIM_PASS_DAMAGED;
		l->resync = ev->resync & TLSHIM_EVS_CONFIRMED ? "confirmed" :
			    ev->resync & TLSHIM_EVS_REQUEST ? "request" : NULL;
	}
	l->rec_sn = ev->rec_sn;
}

static void str_or_null(FILE *f, const char *key, const char *v)
{
	if (v)
		fprintf(f, ",\"%s\":\"%s\"", key, v);
	else
		fprintf(f, ",\"%s\":null", key);
}

void seg_json_write(FILE *f, const struct seg_line *l)
{
	char src[ENDPOINT_STRLEN], dst[ENDPOINT_STRLEN];

	format_endpoint(src, l->flow.saddr, l->flow.sport);
	format_endpoint(dst, l->flow.daddr, l->flow.dport);
	fputc('{', f);
	if (l->index >= 0)
		fprintf(f, "\"i\":%lld,", l->index);
	fprintf(f, "\"ts_ns\":%llu,\"dir\":\"%s\",\"src\":\"%s\",\"dst\":\"%s\",\"seq\":%u,\"len\":%u",
		(unsigned long long)l->ts_ns, dir_name(l->flow.dir), src, dst, l->seq, l->len);
	str_or_null(f, "verdict", l->verdict);
	str_or_null(f, "reason", l->reason);
	if (l->has_rec_sn)
		fprintf(f, ",\"rec_sn\":%llu", (unsigned long long)l->rec_sn);
	else
		fprintf(f, ",\"rec_sn\":null");
	if (l->headers_known) {
		fprintf(f, ",\"headers\":[");
		for (uint32_t i = 0; i < l->nlisted && i < SEG_JSON_MAX_HEADERS; i++)
			fprintf(f, "%s%u", i ? "," : "", l->headers[i]);
		fputc(']', f);
	} else {
		fprintf(f, ",\"headers\":null");
	}
	fprintf(f, ",\"nheaders\":%u", l->nheaders);
	str_or_null(f, "resync", l->resync);
	str_or_null(f, "state", l->state);
	if (l->flow.dir == TLSHIM_DIR_TX) {
		str_or_null(f, "tx_verdict", l->tx_verdict);
		fprintf(f, ",\"dump_bytes\":%u", l->dump_bytes);
	}
	if (l->injected)
		fprintf(f, ",\"injected\":true");
	fputs("}\n", f);
}
