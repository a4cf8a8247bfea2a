# The receive side's verdicts under one targeted loss, predicted segment by
# segment from the device's rules (README "What works today", bpf/stream.h)
# and the record layout, and compared with tlshim run's trace.
#
# Input: the trace lines (JSON, one per segment) of one rx flow, in the
# order the device judged them.  Variables (-v):
#   S0     install seq (record 0 of the layout starts there)
#   W      wire size of a bulk record (header + length field)
#   NREC   records after the install point (the last, close_notify, is
#          shorter: only its start matters here)
#   SN0    record number of record 0 (the install's rec_seq)
#   KREL   the dropped record, relative to the install point
#   D, DL  the dropped segment: seq and length (tlsloss show)
#   KIND   body | header
#   LMAX   the device's maximum record length field (scan_from = hole + 5 + LMAX)
#   H      resync-headers: headers the guess must chain before the request
# Offsets are bytes from S0 (mod 2^32: the transfer is far below 2^31).
#
# Output: "mismatch ..." lines (at most 8), then one "summary k=v ..." line.
function num(line, key,    m) {
	if (!match(line, "\"" key "\":[0-9]+"))
		return -1;
	m = substr(line, RSTART, RLENGTH);
	sub(/.*:/, "", m);
	return m + 0;
}
function str(line, key,    m) {
	if (!match(line, "\"" key "\":\"[^\"]*\""))
		return "";
	m = substr(line, RSTART, RLENGTH);
	sub(/^[^:]*:"/, "", m);
	sub(/"$/, "", m);
	return m;
}
function off_of(seq) { return (seq - S0 + 4294967296) % 4294967296; }
function rec_start(i) { return i * W; }
# Index of the record holding offset o.
function rec_at(o) { return o >= (NREC - 1) * W ? NREC - 1 : int(o / W); }
# Headers whose last byte lies in [a, b): the walk completes them there.
function headers_in(a, b,    i, n) {
	n = 0;
	for (i = 0; i < NREC; i++)
		if (rec_start(i) + 4 >= a && rec_start(i) + 4 < b)
			n++;
	return n;
}
# First record start g >= a whose 5 header bytes lie in [a, b): the scan's find.
function header_found(a, b,    i) {
	for (i = 0; i < NREC; i++)
		if (rec_start(i) >= a && rec_start(i) + 5 <= b)
			return i;
	return -1;
}
function mismatch(what) {
	bad++;
	if (bad <= 8)
		printf "mismatch line %d (seq %u off %u len %u): %s; trace: %s reason %d state %s rec_sn %d headers %d\n",
			NR, seq, o, len, what, verdict, reason, state, rec_sn, headers;
}
function want(v, r, s, sn, hd) {
	if (verdict != v || reason != r || state != s)
		mismatch("predicted " v " reason " r " state " s);
	else if (sn >= 0 && rec_sn != sn)
		mismatch("predicted rec_sn " sn);
	else if (hd >= 0 && headers != hd)
		mismatch("predicted headers " hd);
}
BEGIN {
	d = off_of(D); dend = d + DL;
	rk = rec_start(KREL);
	phase = "sync";		# sync, lost, scanning, tracking, requested
	maxend = 0;
	scan_from = dend;	# set at the gap
	guess = -1; chain = 0; tracked_from = -1;
	n_dec = n_pass = n_old = n_damaged = 0;
	dec_bytes = hole_bytes = 0;
	gap_line = scan_line = guess_line = req_line = conf_line = 0;
	holes = 0;
}
{
	seq = num($0, "seq"); len = num($0, "len"); verdict = str($0, "verdict");
	reason = num($0, "reason"); state = str($0, "state"); rec_sn = num($0, "rec_sn");
	headers = num($0, "headers");
	o = off_of(seq); e = o + len;
	if (verdict == "decrypted") { n_dec++; dec_bytes += len } else n_pass++;
	if (e <= maxend) {
		# Wholly before expected_seq: a retransmission, passed untouched.
		n_old++;
		if (o <= d && e >= dend)
			retrans_of_hole++;
		want("passed", 2, phase == "sync" ? "in-sync" : phase, -1, 0);
		next;
	}
	if (o < maxend) {
		mismatch("starts before the highest end " maxend " and ends after it (unpredicted)");
		maxend = e;
		next;
	}
	if (o > maxend && !(o == dend && maxend == d)) {
		holes++;
		mismatch("a hole before it at " maxend " that tlsloss did not make (unpredicted loss or reordering)");
		maxend = e;
		next;
	}
	if (KIND == "body") {
		# A hole inside record KREL's body: sync kept, the rest of the
		# record up to the next header passed (damaged).
		if (o > d && o < rec_start(KREL + 1)) {
			n_damaged++; hole_bytes += len;
			want("passed", 8, "in-sync", SN0 + rec_at(o), headers_in(o, e));
		} else
			want("decrypted", 0, "in-sync", SN0 + rec_at(o), headers_in(o, e));
		maxend = e;
		next;
	}
	# header: the hole may have held a header: the stream is lost.
	if (phase == "sync" && o == dend && maxend == d) {
		phase = "lost"; gap_line = NR;
		scan_from = d + 5 + LMAX;
		hole_bytes += len;
		want("passed", 4, "lost", SN0 + rec_at(d), 0);
		maxend = e;
		next;
	}
	if (phase == "sync") {
		want("decrypted", 0, "in-sync", SN0 + rec_at(o), headers_in(o, e));
		maxend = e;
		next;
	}
	if (phase == "requested" && state == "in-sync") {
		# The answer applied at this segment's start: decrypted from here.
		phase = "sync"; conf_line = NR;
		want("decrypted", 0, "in-sync", SN0 + rec_at(o), headers_in(o, e));
		maxend = e;
		next;
	}
	hole_bytes += len;
	# While lost or scanning the record number stays where the stream was
	# lost; the guess line reports it too (taken before the scan).
	sn = SN0 + rec_at(d); hd = 0;
	if (phase == "lost" && e > scan_from)
		{ phase = "scanning"; scan_line = NR; }
	if (phase == "scanning") {
		g = header_found(o > scan_from ? o : scan_from, e);
		if (g >= 0) {
			phase = "tracking"; guess = g; guess_line = NR;
			chain = headers_in(rec_start(g), e);
			hd = chain;
			if (chain >= H) { phase = "requested"; req_line = NR; }
		}
	} else if (phase == "tracking" || phase == "requested") {
		# rec_sn counts records since the guess (record 0 of the count).
		sn = rec_at(o) - guess; hd = headers_in(o, e);
		if (phase == "tracking") {
			chain += hd;
			if (chain >= H) { phase = "requested"; req_line = NR; }
		}
	}
	want("passed", 5, phase, sn, hd);
	maxend = e;
}
END {
	printf "summary decrypted=%d passed=%d old=%d damaged=%d decrypted_bytes=%d hole_bytes=%d retrans_of_hole=%d holes=%d gap_line=%d scan_line=%d guess_line=%d guess_rec=%d req_line=%d conf_line=%d phase=%s mismatches=%d lines=%d\n",
		n_dec, n_pass, n_old, n_damaged, dec_bytes, hole_bytes, retrans_of_hole + 0, holes,
		gap_line, scan_line, guess_line, guess, req_line, conf_line, phase, bad + 0, NR;
}
