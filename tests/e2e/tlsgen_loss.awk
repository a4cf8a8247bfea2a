# The receive side's verdicts under one targeted loss, predicted segment by
# segment from the device's rules (README "What works today", bpf/stream.h)
# and the record layout, and compared with tlshim run's trace.
#
# Input: the trace lines (user/seg_json.c: one JSON object per segment) of
# one rx flow, in the order the device judged them.  Variables (-v):
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
#   ASYNC  1 for the async policy: the guess's segment opens the request
# Offsets are bytes from S0 (mod 2^32: the transfer is far below 2^31).
#
# Each line is checked for verdict, reason, state after it, rec_sn (the
# record of its first byte where the trace gives one: decrypted and
# damaged segments; null elsewhere), nheaders (headers completed in it)
# and resync (request / confirmed / null).
#
# Output: "mismatch ..." lines (at most 8), then one "summary k=v ..." line.

# The raw value of "key": a string's contents, a number, or null.
function val(line, key,    m) {
	if (!match(line, "\"" key "\":(\"[^\"]*\"|[-0-9]+|null)"))
		return "<missing>";
	m = substr(line, RSTART + length(key) + 3, RLENGTH - length(key) - 3);
	gsub(/"/, "", m);
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
		printf "mismatch line %d (seq %s off %d len %d): predicted %s; trace: %s %s state %s rec_sn %s nheaders %s resync %s\n",
			NR, seq, o, len, what, verdict, reason, state, rec_sn, nheaders, resync;
}
# Verdict, reason, state, rec_sn, nheaders, resync as predicted ("null":
# the trace must say null).
function want(v, r, s, sn, hd, rs) {
	if (verdict != v || reason != r || state != s)
		mismatch(v " " r " state " s);
	else if (rec_sn != sn)
		mismatch("rec_sn " sn);
	else if (nheaders != hd)
		mismatch("nheaders " hd);
	else if (resync != rs)
		mismatch("resync " rs);
}
BEGIN {
	d = off_of(D); dend = d + DL;
	phase = "sync";		# sync, lost, scanning, tracking, requested
	maxend = 0;
	scan_from = dend;	# set at the gap
	guess = -1; chain = 0;
	n_dec = n_pass = n_old = n_damaged = 0;
	dec_bytes = hole_bytes = 0;
	gap_line = scan_line = guess_line = req_line = conf_line = 0;
	holes = 0;
}
{
	seq = val($0, "seq"); len = val($0, "len") + 0; verdict = val($0, "verdict");
	reason = val($0, "reason"); state = val($0, "state"); rec_sn = val($0, "rec_sn");
	nheaders = val($0, "nheaders"); resync = val($0, "resync");
	o = off_of(seq + 0); e = o + len;
	if (verdict == "decrypted") { n_dec++; dec_bytes += len } else n_pass++;
	if (e <= maxend) {
		# Wholly before expected_seq: a retransmission, passed untouched.
		n_old++;
		if (o <= d && e >= dend)
			retrans_of_hole++;
		want("passed", "old", phase == "sync" ? "in-sync" : phase, "null", 0, "null");
		next;
	}
	if (o < maxend) {
		mismatch("(nothing: it starts before the highest end " maxend " and ends after it)");
		maxend = e;
		next;
	}
	if (o > maxend && !(o == dend && maxend == d)) {
		holes++;
		mismatch("(nothing: a hole before it at " maxend " that tlsloss did not make: loss or reordering)");
		maxend = e;
		next;
	}
	if (KIND == "body") {
		# A hole inside record KREL's body: sync kept, the rest of the
		# record up to the next header passed (damaged).
		if (o > d && o < rec_start(KREL + 1)) {
			n_damaged++; hole_bytes += len;
			want("passed", "damaged", "in-sync", SN0 + rec_at(o), headers_in(o, e), "null");
		} else
			want("decrypted", "null", "in-sync", SN0 + rec_at(o), headers_in(o, e), "null");
		maxend = e;
		next;
	}
	# header: the hole may have held a header: the stream is lost.
	if (phase == "sync" && o == dend && maxend == d) {
		phase = "lost"; gap_line = NR;
		scan_from = d + 5 + LMAX;
		hole_bytes += len;
		want("passed", "gap", "lost", "null", 0, "null");
		maxend = e;
		next;
	}
	if (phase == "sync") {
		want("decrypted", "null", "in-sync", SN0 + rec_at(o), headers_in(o, e), "null");
		maxend = e;
		next;
	}
	if (phase == "requested" && state == "in-sync") {
		# The answer applied at this segment's start (when it lands is
		# timing, not predicted): decrypted from here on.
		phase = "sync"; conf_line = NR;
		want("decrypted", "null", "in-sync", SN0 + rec_at(o), headers_in(o, e), "confirmed");
		maxend = e;
		next;
	}
	hole_bytes += len;
	hd = 0; rs = "null";
	if (phase == "lost" && e > scan_from)
		{ phase = "scanning"; scan_line = NR; }
	if (phase == "scanning") {
		g = header_found(o > scan_from ? o : scan_from, e);
		if (g >= 0) {
			phase = "tracking"; guess = g; guess_line = NR;
			chain = headers_in(rec_start(g), e);
			hd = chain;
			if (ASYNC)
				rs = "request";	# the async request opens here
		}
	} else if (phase == "tracking" || phase == "requested")
		hd = headers_in(o, e);
	if (phase == "tracking") {
		if (NR != guess_line)
			chain += hd;
		if (chain >= H) { phase = "requested"; req_line = NR; rs = "request"; }
	}
	want("passed", "not-synced", phase, "null", hd, rs);
	maxend = e;
}
END {
	printf "summary decrypted=%d passed=%d old=%d damaged=%d decrypted_bytes=%d hole_bytes=%d retrans_of_hole=%d holes=%d gap_line=%d scan_line=%d guess_line=%d guess_rec=%d req_line=%d conf_line=%d phase=%s mismatches=%d lines=%d\n",
		n_dec, n_pass, n_old, n_damaged, dec_bytes, hole_bytes, retrans_of_hole + 0, holes,
		gap_line, scan_line, guess_line, guess, req_line, conf_line, phase, bad + 0, NR;
}
