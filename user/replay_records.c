// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Records fully offloaded: the figure the published NIC studies report
 * (ASPLOS'21 "Autonomous NIC Offloads" on ConnectX-6 Dx: the share of
 * records the NIC decrypted whole, so the kernel never touched them).
 *
 * The kernel decrypts a record in software as soon as one of its skbs came
 * up not decrypted (tls_device_decrypted: partially decrypted records are
 * re-encrypted and done in software).  Which skb brings a byte is the
 * first copy TCP accepts: the first captured packet holding it; later
 * copies are duplicates TCP drops.  So a record of an rx connection is
 * fully offloaded if every byte of it arrived and the first packet holding
 * each byte was decrypted.  Packets --drop removed never arrived.
 */
#include <stdlib.h>
#include <string.h>
#include "replay.h"

/* Truth records from the install point, as publish_truth numbers them. */
void replay_records_init(struct rconn *c, const struct rrec *recs, size_t n)
{
	if (c->spec.flow.dir != TLSHIM_DIR_RX || !n || !c->stream)
		return;
	c->recs = malloc(n * sizeof(*c->recs));
	c->rec_bad = calloc(n, 1);
	c->delivered = calloc(c->stream->len / 8 + 1, 1);
	if (!c->recs || !c->rec_bad || !c->delivered)
		fail(EXIT_FAIL, "out of memory");
	memcpy(c->recs, recs, n * sizeof(*c->recs));
	c->nrecs = n;
}

static bool delivered(const struct rconn *c, uint32_t rel)
{
	return c->delivered[rel / 8] & (1u << (rel % 8));
}

/* The record holding stream offset rel, or nrecs. */
static size_t record_at(const struct rconn *c, uint32_t rel)
{
	size_t lo = 0, hi = c->nrecs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (rel < c->recs[mid].rel)
			hi = mid;
		else if (rel >= c->recs[mid].rel + c->recs[mid].len)
			lo = mid + 1;
		else
			return mid;
	}
	return c->nrecs;
}

/* A packet the device judged: its first-arrival bytes count for their records. */
void replay_records_packet(struct rconn *c, uint32_t seq, uint32_t len, bool decrypted)
{
	uint32_t rel0;

	if (!c->recs || !len)
		return;
	rel0 = seq - c->stream->base;
	for (uint32_t i = 0; i < len; i++) {
		uint32_t rel = rel0 + i;
		size_t k;

		if (rel >= c->stream->len || delivered(c, rel))
			continue;
		c->delivered[rel / 8] |= 1u << (rel % 8);
		if (!decrypted && (k = record_at(c, rel)) < c->nrecs)
			c->rec_bad[k] = 1;
	}
}

void replay_records_count(const struct rconn *c, uint64_t *arrived, uint64_t *offloaded)
{
	*arrived = *offloaded = 0;
	for (size_t k = 0; k < c->nrecs; k++) {
		const struct rrec *rec = &c->recs[k];
		bool whole = true;

		for (uint32_t i = 0; i < rec->len && whole; i++)
			whole = rec->rel + i < c->stream->len && delivered(c, rec->rel + i);
		if (!whole)
			continue;
		(*arrived)++;
		if (!c->rec_bad[k])
			(*offloaded)++;
	}
}

void replay_records_free(struct rconn *c)
{
	free(c->recs);
	free(c->rec_bad);
	free(c->delivered);
	c->recs = NULL;
	c->rec_bad = c->delivered = NULL;
}
