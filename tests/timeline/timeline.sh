#!/bin/bash
# tlshim timeline: JSONL verdicts in, SVG figure out.  A hand-made scenario
# (records every 1000 bytes, a lost segment with a record header, passed
# segments while the device is lost, a resync request and its confirmation,
# a late retransmission) is drawn and checked element by element: boxes,
# their positions against the figure's own axis ticks, header stripes,
# markers, state labels, legend, escaping; then rendered by headless
# Chromium and the screenshot checked for the fill colors.  Bad input:
# status 2, one stderr line, no output file touched.
set -u
cd "$(dirname "$0")/../.." || exit 1
TLSHIM=$PWD/tlshim
PNGSTAT=$PWD/build/pngstat
TMP=$(mktemp -d /tmp/tt-timeline.XXXXXX)
fails=0

cleanup() {
	local pid
	# a browser that outlived its timeout: only processes of our own
	# profile dir (they carry its path), by pid
	for pid in $(pgrep -f -- "--user-data-dir=$TMP/" 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { echo "ok $1"; }
bad() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
count() { grep -o -- "$2" "$1" | wc -l; }
rows() { grep -o '<title>#[0-9]*' "$1" | sed 's/<title>#//' | tr '\n' ' '; }	# the rows' indexes

for f in "$TLSHIM" "$PNGSTAT"; do
	[ -x "$f" ] || { bad timeline-build "$f missing (run make)"; exit 1; }
done

# The scenario, like tls-offload.rst's "reorder of a segment with a TLS
# header": records start every 1000 bytes from seq 1000; segments are 700
# bytes.  #12 (seq 2400, holding header 3000) is lost, so the device loses
# the stream, scans, finds header 5000 in #15 and asks the kernel; the
# kernel confirms at #17; #20 is #12's late retransmission.  Line 4 is a
# live trace line (tlshim run --trace) of the other direction: "headers"
# is a count there, and the tx verdict "resync" with a replayed prefix.
S=$TMP/scenario.jsonl
cat >"$S" <<'EOF'
{"i":10,"dir":"rx","src":"10.1.0.1:443","dst":"10.1.0.2:40000","seq":1000,"len":700,"verdict":"decrypted","rec_sn":0,"headers":[1000],"resync":null,"state":"in-sync"}
{"i":11,"dir":"rx","src":"10.1.0.1:443","dst":"10.1.0.2:40000","seq":1700,"len":700,"verdict":"decrypted","rec_sn":1,"headers":[2000],"resync":null,"state":"in-sync"}
{"i":12,"dir":"rx","src":"10.1.0.1:443","dst":"10.1.0.2:40000","seq":2400,"len":700,"verdict":"dropped","rec_sn":null,"headers":[],"resync":null,"state":"in-sync","injected":true}
{"ts_ns":5,"dir":"tx","src":"10.1.0.2:40000","dst":"10.1.0.1:443","seq":500,"len":300,"verdict":"resync","drop_reason":0,"rec_sn":4,"dump_bytes":120,"headers":1,"state":"in-sync"}
{"i":13,"dir":"rx","src":"10.1.0.1:443","dst":"10.1.0.2:40000","seq":3100,"len":700,"verdict":"passed","rec_sn":null,"headers":[],"resync":null,"state":"lost"}
{"i":14,"dir":"rx","src":"10.1.0.1:443","dst":"10.1.0.2:40000","seq":3800,"len":700,"verdict":"passed","rec_sn":null,"headers":[],"resync":null,"state":"scanning"}
{"i":15,"dir":"rx","src":"10.1.0.1:443","dst":"10.1.0.2:40000","seq":4500,"len":700,"verdict":"passed","rec_sn":null,"headers":[5000],"resync":"request","state":"requested"}
{"i":16,"dir":"rx","src":"10.1.0.1:443","dst":"10.1.0.2:40000","seq":5200,"len":700,"verdict":"passed","rec_sn":null,"headers":[],"resync":null,"state":"requested"}
{"i":17,"dir":"rx","src":"10.1.0.1:443","dst":"10.1.0.2:40000","seq":5900,"len":700,"verdict":"passed","rec_sn":null,"headers":[6000],"resync":"confirmed","state":"in-sync"}
{"i":18,"dir":"rx","src":"10.1.0.1:443","dst":"10.1.0.2:40000","seq":6600,"len":700,"verdict":"decrypted","rec_sn":6,"headers":[7000],"resync":null,"state":"in-sync"}
{"i":19,"dir":"rx","src":"10.1.0.1:443","dst":"10.1.0.2:40000","seq":7300,"len":700,"verdict":"decrypted","rec_sn":7,"headers":[],"resync":null,"state":"in-sync"}
{"i":20,"dir":"rx","src":"10.1.0.1:443","dst":"10.1.0.2:40000","seq":2400,"len":700,"verdict":"passed","rec_sn":null,"headers":[],"resync":null,"state":"in-sync","reason":"old"}
{"i":21,"dir":"rx","src":"10.1.0.1:443","dst":"10.1.0.2:40000","seq":8000,"len":700,"verdict":"decrypted","rec_sn":8,"headers":[8000],"resync":null,"state":"in-sync"}
EOF

# geom FILE START: every segment box checked against the figure's own x
# axis (the first and the last tick mark give origin and scale; both are
# rounded to 0.1 px, hence the 0.2 px slack): x at seq - START,
# width len (u32 wrap-safe).  Prints the mismatches, nothing if all fit.
geom() {
	awk -v start="$2" -v nt=0 '
	function attr(s, n) { return match(s, " " n "=\"[^\"]*\"") ? substr(s, RSTART + length(n) + 3, RLENGTH - length(n) - 4) : "" }
	/<g class="xtick">/ {
		v = $0; sub(/.*class="tick"[^>]*>/, "", v); sub(/<.*/, "", v)
		k = nt ? 1 : 0; tx[k] = attr($0, "x1"); tv[k] = v; nt++
	}
	/<rect class="seg / {
		if (nt < 2) { print "no ticks before the boxes"; exit }
		scale = (tx[1] - tx[0]) / (tv[1] - tv[0])
		t = $0; sub(/.*<title>#/, "", t); split(t, w, " ")
		rel = (w[3] - start) % 4294967296; if (rel < 0) rel += 4294967296
		if (rel >= 2147483648) rel -= 4294967296
		want = tx[0] + (rel - tv[0]) * scale; ww = w[5] * scale; if (ww < 1.5) ww = 1.5
		d1 = attr($0, "x") - want; d2 = attr($0, "width") - ww
		if (d1 > 0.2 || d1 < -0.2 || d2 > 0.2 || d2 < -0.2)
			printf "#%s x %s width %s, want %.1f %.1f\n", w[1], attr($0, "x"), attr($0, "width"), want, ww
	}' "$1"
}

# Header stripes in document order as "X:Y1:Y2 of the box before it".
stripes() {
	awk 'function attr(s, n) { return match(s, " " n "=\"[^\"]*\"") ? substr(s, RSTART + length(n) + 3, RLENGTH - length(n) - 4) : "" }
	/<rect class="seg / { by = attr($0, "y"); bh = attr($0, "height"); t = $0; sub(/.*<title>/, "", t); split(t, w, " ") }
	/<line class="hdr"/ { printf "%s %s %s %s %s\n", w[1], attr($0, "x1"), (attr($0, "y1") <= by && attr($0, "y2") >= by + bh) ? "spans" : "OFF", by, bh }' "$1"
}

# tick_x FILE SEQREL: where the axis puts a seq (relative to its start).
tick_x() {
	awk -v r="$2" -v n=0 'function attr(s, n) { return match(s, " " n "=\"[^\"]*\"") ? substr(s, RSTART + length(n) + 3, RLENGTH - length(n) - 4) : "" }
	/<g class="xtick">/ { v = $0; sub(/.*class="tick"[^>]*>/, "", v); sub(/<.*/, "", v); k = n ? 1 : 0; x[k] = attr($0, "x1"); t[k] = v; n++ }
	END { printf "%.1f\n", x[0] + (r - t[0]) * (x[1] - x[0]) / (t[1] - t[0]) }' "$1"
}

# same "A 1.0 B,..." "A 1.1 B,...": equal but for numbers within 0.2 (px)
same() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		na = split(a, x, /[ ,]/); nb = split(b, y, /[ ,]/)
		if (na != nb) exit 1
		for (i = 1; i <= na; i++) {
			if (x[i] ~ /^[0-9.]+$/ && y[i] ~ /^[0-9.]+$/) { d = x[i] - y[i]; if (d > 0.2 || d < -0.2) exit 1 }
			else if (x[i] != y[i]) exit 1
		}
	}'
}

# The box line of a row ("#15 ") and what follows it up to the next box.
row_block() { awk -v id="$2" '/<rect class="seg / { on = index($0, "<title>" id " ") > 0 } on' "$1"; }

# --- the scenario, default options
OUT=$TMP/s.svg
if ! "$TLSHIM" timeline "$S" -o "$OUT" --title "Reorder of a segment with a TLS header" \
	>"$TMP/out" 2>"$TMP/err"; then
	bad timeline-render "exit $?: $(cat "$TMP/err")"; exit 1
fi
ok timeline-render
if [ -s "$TMP/out" ]; then bad timeline-quiet-stdout "$(head -c 200 "$TMP/out")"
else ok timeline-quiet-stdout; fi
if grep -q '^tlshim: .*scenario.jsonl holds 2 flows; drawing the first' "$TMP/err" &&
   grep -q '^  rx 10.1.0.1:443-10.1.0.2:40000  12 segments  (drawn)$' "$TMP/err" &&
   grep -q '^  tx 10.1.0.2:40000-10.1.0.1:443  1 segments$' "$TMP/err" &&
   [ "$(wc -l <"$TMP/err")" -eq 3 ]; then ok timeline-lists-flows
else bad timeline-lists-flows "stderr: $(cat "$TMP/err")"; fi

if xmllint --version >/dev/null 2>&1; then
	if err=$(xmllint --noout "$OUT" 2>&1); then ok timeline-xmllint
	else bad timeline-xmllint "$err"; fi
else
	echo "skip timeline-xmllint: xmllint not installed (make deps installs libxml2-utils)"
fi
W=$(grep -o '<svg [^>]*' "$OUT" | grep -o ' width="[0-9]*"' | grep -o '[0-9]*')
H=$(grep -o '<svg [^>]*' "$OUT" | grep -o ' height="[0-9]*"' | grep -o '[0-9]*')
if grep -q '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="1100" height="[0-9]*" viewBox="0 0 1100 [0-9]*">' "$OUT" &&
   grep -q "viewBox=\"0 0 $W $H\"" "$OUT" && [ "$H" -gt 300 ] && [ "$H" -lt 1000 ]; then
	ok timeline-svg-root
else bad timeline-svg-root "$(grep -o '<svg [^>]*' "$OUT")"; fi

# one box per segment of the drawn flow, in arrival order
n_dec=$(count "$OUT" 'class="seg decrypted"'); n_pas=$(count "$OUT" 'class="seg passed"')
n_dro=$(count "$OUT" 'class="seg dropped"'); n_all=$(count "$OUT" 'class="seg ')
order=$(rows "$OUT")
if [ "$n_dec $n_pas $n_dro $n_all" = "5 6 1 12" ] &&
   [ "$order" = "10 11 12 13 14 15 16 17 18 19 20 21 " ]; then ok timeline-boxes
else bad timeline-boxes "decrypted $n_dec passed $n_pas dropped $n_dro all $n_all (want 5 6 1 12), order $order"; fi
if grep -q '<title>#12 seq 2400 len 700: dropped (injected loss), in-sync</title>' "$OUT" &&
   grep -q '<title>#20 seq 2400 len 700: passed, reason old, in-sync</title>' "$OUT" &&
   grep -q '<title>#18 seq 6600 len 700: decrypted, in-sync, rec_sn 6</title>' "$OUT"; then
	ok timeline-tooltips
else bad timeline-tooltips "$(grep -o '<title>[^<]*' "$OUT" | head -3)"; fi

if grep -q 'TCP sequence (bytes from start; start = seq 1000)' "$OUT"; then ok timeline-axis-start
else bad timeline-axis-start "$(grep -o 'TCP sequence[^<]*' "$OUT")"; fi
mis=$(geom "$OUT" 1000)
if [ -z "$mis" ] && [ "$(count "$OUT" '<g class="xtick">')" -ge 4 ]; then ok timeline-box-positions
else bad timeline-box-positions "$mis"; fi

# stripes: on the rows holding the headers, at the headers' x; again at
# 16000 px wide, where a byte is 2 px: positions exact to the byte
"$TLSHIM" timeline "$S" -o "$TMP/wide.svg" --dir rx --width 16000 2>"$TMP/err"
for fig in "$OUT" "$TMP/wide.svg"; do
	got=$(stripes "$fig" | awk '{ print $1, $2, $3 }' | tr '\n' ',')
	want=""
	for p in "#10 1000" "#11 2000" "#15 5000" "#17 6000" "#18 7000" "#21 8000"; do
		read -r id hseq <<<"$p"
		want="$want$id $(tick_x "$fig" $((hseq - 1000))) spans,"
	done
	if same "$got" "$want"; then ok "timeline-header-stripes ($(basename "$fig"))"
	else bad "timeline-header-stripes ($(basename "$fig"))" "got '$got' want '$want'"; fi
done
mis=$(geom "$TMP/wide.svg" 1000)
if [ -z "$mis" ] && [ "$(count "$TMP/wide.svg" 'class="seg ')" -eq 12 ]; then ok timeline-box-positions-wide
else bad timeline-box-positions-wide "$mis"; fi

# markers on the rows of the request (#15) and the confirmation (#17)
if [ "$(count "$OUT" 'class="mark request"')" -eq 1 ] && [ "$(count "$OUT" 'class="mark confirmed"')" -eq 1 ] &&
   row_block "$OUT" "#15" | grep -q 'class="mark request"' &&
   row_block "$OUT" "#15" | grep -q '>resync request</text>' &&
   row_block "$OUT" "#17" | grep -q 'class="mark confirmed"' &&
   row_block "$OUT" "#17" | grep -q '>resync confirmed</text>'; then ok timeline-resync-markers
else bad timeline-resync-markers "$(grep -n 'class="mark' "$OUT")"; fi

states=$(grep -o 'class="state [a-z-]*" [^>]*>[^<]*' "$OUT" | sed 's/.*>//' | tr '\n' ' ')
if [ "$states" = "in-sync lost scanning requested in-sync " ] &&
   [ "$(count "$OUT" 'class="phase"')" -eq 4 ]; then ok timeline-state-labels
else bad timeline-state-labels "'$states', $(count "$OUT" 'class="phase"') phase lines"; fi

legend=$(grep -o '<text [^>]*class="legend">[^<]*' "$OUT" | sed 's/.*>//' | tr '\n' '|')
want='decrypted by the device|passed as received (not decrypted)|dropped (injected loss or NIC drop)|TLS record header|resync request (device asks the kernel)|resync confirmed (kernel answers)|sync state from that row on|'
if [ "$legend" = "$want" ]; then ok timeline-legend
else bad timeline-legend "$legend"; fi

# --- escaping: the title from argv, strings from the JSON (\u escapes,
# a surrogate pair too)
E=$TMP/esc.jsonl
printf '%s\n' '{"dir":"rx","seq":1,"len":10,"verdict":"passed","state":"\u00e9tat <x&y> \"q\" \t\/"}' \
	'{"dir":"rx","seq":11,"len":10,"verdict":"passed","state":"\ud83d\ude00"}' >"$E"
if "$TLSHIM" timeline "$E" -o "$TMP/esc.svg" --title $'a<b> & "c" \'d\' \x01' 2>"$TMP/err" &&
   grep -q '>a&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; ?</text>' "$TMP/esc.svg" &&
   grep -q '>état &lt;x&amp;y&gt; &quot;q&quot;  /</text>' "$TMP/esc.svg" &&
   grep -q $'>\xf0\x9f\x98\x80</text>' "$TMP/esc.svg" &&
   { ! xmllint --version >/dev/null 2>&1 || xmllint --noout "$TMP/esc.svg" 2>"$TMP/err"; }; then
	ok timeline-escaping
else bad timeline-escaping "$(cat "$TMP/err"; grep -o '<text [^>]*class="title">[^<]*' "$TMP/esc.svg")"; fi

# --- the live trace's tx line: verdict "resync" is encrypted, "headers"
# is a count (no stripes), the replayed prefix is drawn; one flow, quiet
for sel in "--dir tx" "--flow 10.1.0.2:40000-10.1.0.1:443"; do
	# shellcheck disable=SC2086
	if "$TLSHIM" timeline "$S" -o "$TMP/tx.svg" $sel 2>"$TMP/err" && [ ! -s "$TMP/err" ] &&
	   [ "$(count "$TMP/tx.svg" 'class="seg ')" -eq 1 ] &&
	   [ "$(count "$TMP/tx.svg" 'class="seg encrypted"')" -eq 1 ] &&
	   [ "$(count "$TMP/tx.svg" 'class="hdr"')" -eq 0 ] &&
	   [ "$(count "$TMP/tx.svg" 'class="dump"')" -eq 1 ] &&
	   grep -q 'start = seq 380)' "$TMP/tx.svg"; then ok "timeline-live-trace-tx ($sel)"
	else bad "timeline-live-trace-tx ($sel)" "$(cat "$TMP/err")"; fi
done
if "$TLSHIM" timeline "$S" -o "$TMP/rx.svg" --flow 10.1.0.1:443-10.1.0.2:40000 2>"$TMP/err" &&
   [ ! -s "$TMP/err" ] && [ "$(count "$TMP/rx.svg" 'class="seg ')" -eq 12 ]; then ok timeline-flow-rx
else bad timeline-flow-rx "$(cat "$TMP/err")"; fi

# --flow compares addresses, not spellings (IPv6 has many)
printf '%s\n' '{"dir":"rx","src":"10.0.0.1:1","dst":"10.0.0.2:2","seq":1,"len":10,"verdict":"passed"}' \
	'{"dir":"rx","src":"[2001:db8::1]:443","dst":"[2001:db8::2]:5","seq":1,"len":10,"verdict":"decrypted"}' >"$TMP/v6.jsonl"
if "$TLSHIM" timeline "$TMP/v6.jsonl" -o "$TMP/v6.svg" --flow '[2001:db8:0:0::1]:443-[2001:0db8::2]:5' 2>"$TMP/err" &&
   [ "$(count "$TMP/v6.svg" 'class="seg ')" -eq 1 ] && [ "$(count "$TMP/v6.svg" 'class="seg decrypted"')" -eq 1 ] &&
   grep -q 'class="subtitle">rx \[2001:db8::1\]:443 → \[2001:db8::2\]:5 ' "$TMP/v6.svg"; then ok timeline-flow-ipv6
else bad timeline-flow-ipv6 "$(cat "$TMP/err")"; fi

# --- windows: --count, --from, --seq-from/--seq-to
"$TLSHIM" timeline "$S" -o "$TMP/c.svg" --dir rx --count 5 2>"$TMP/err"
order=$(rows "$TMP/c.svg")
if [ "$order" = "10 11 12 13 14 " ] && grep -q '>7 more segments not shown (--from, --count)</text>' "$TMP/c.svg"; then
	ok timeline-count
else bad timeline-count "rows $order, note $(grep -o 'class="note">[^<]*' "$TMP/c.svg")"; fi
"$TLSHIM" timeline "$S" -o "$TMP/f.svg" --dir rx --from 15 2>"$TMP/err"
order=$(rows "$TMP/f.svg")
if [ "$order" = "15 16 17 18 19 20 21 " ] && grep -q '>5 before --from</text>' "$TMP/f.svg" &&
   grep -q 'start = seq 2400)' "$TMP/f.svg" && [ -z "$(geom "$TMP/f.svg" 2400)" ]; then ok timeline-from
else bad timeline-from "rows $order; $(geom "$TMP/f.svg" 2400)"; fi
"$TLSHIM" timeline "$S" -o "$TMP/q.svg" --dir rx --seq-from 3000 --seq-to 6000 2>"$TMP/err"
order=$(rows "$TMP/q.svg")
got=$(stripes "$TMP/q.svg" | awk '{ print $1, $2 }' | tr '\n' ',')
# boxes are clipped to the window: #12 (2400..3100) starts at the axis' 0
x12=$(grep '<title>#12 ' "$TMP/q.svg" | grep -o ' x="[0-9.]*"' | grep -o '[0-9.]*')
if [ "$order" = "12 13 14 15 16 17 20 " ] && same "$got" "#15 $(tick_x "$TMP/q.svg" 2000)," &&
   grep -q 'start = seq 3000)' "$TMP/q.svg" && same "$x12" "$(tick_x "$TMP/q.svg" 0)" &&
   grep -q '>5 outside --seq-from/--seq-to</text>' "$TMP/q.svg"; then ok timeline-seq-window
else bad timeline-seq-window "rows $order, stripes $got, #12 at $x12"; fi

# --- liberal where it is safe: unknown keys of any shape, CRLF, blank
# lines, whitespace, null for optional keys, a key order of its own
{
	printf '%s\r\n' '{"x":{"a":[1,"b",{"c":null}],"d":""},"y":-1.5e3,"z":[true],"len":10,"seq":7,"dir":"rx","verdict":"decrypted","resync":null,"i":null}'
	printf '\n   \n'
	printf '%s\n' ' { "dir" : "rx" , "seq" : 17 , "len" : 10 , "verdict" : "passed" , "headers" : [ ] , "state" : null } '
} >"$TMP/liberal.jsonl"
if "$TLSHIM" timeline "$TMP/liberal.jsonl" -o "$TMP/liberal.svg" 2>"$TMP/err" &&
   [ "$(count "$TMP/liberal.svg" 'class="seg decrypted"')" -eq 1 ] &&
   [ "$(count "$TMP/liberal.svg" 'class="seg passed"')" -eq 1 ] &&
   grep -q '<title>#0 seq 7 len 10: decrypted</title>' "$TMP/liberal.svg" &&
   grep -q '<title>#3 seq 17 len 10: passed</title>' "$TMP/liberal.svg"; then ok timeline-liberal-input
else bad timeline-liberal-input "$(cat "$TMP/err")"; fi

# --- u32 wrap: a flow crossing seq 2^32 is drawn in one piece
printf '%s\n' '{"dir":"rx","seq":4294967000,"len":500,"verdict":"decrypted","headers":[4294967000]}' \
	'{"dir":"rx","seq":204,"len":500,"verdict":"decrypted","headers":[100]}' >"$TMP/wrap.jsonl"
"$TLSHIM" timeline "$TMP/wrap.jsonl" -o "$TMP/wrap.svg" 2>"$TMP/err"
got=$(stripes "$TMP/wrap.svg" | awk '{ print $2 }' | tr '\n' ',')
if grep -q 'start = seq 4294967000)' "$TMP/wrap.svg" && [ -z "$(geom "$TMP/wrap.svg" 4294967000)" ] &&
   same "$got" "$(tick_x "$TMP/wrap.svg" 0),$(tick_x "$TMP/wrap.svg" 396),"; then ok timeline-seq-wrap
else bad timeline-seq-wrap "$(cat "$TMP/err"; geom "$TMP/wrap.svg" 4294967000); stripes $got"; fi

# --- a large input: capped at 400 rows, the rest counted, size sane;
# ACK-like lines (len 0) are counted, not drawn
awk 'BEGIN { for (i = 0; i < 1500; i++) {
	printf "{\"dir\":\"rx\",\"seq\":%d,\"len\":1448,\"verdict\":\"%s\",\"headers\":[%d],\"state\":\"in-sync\"}\n", 1 + i * 1448, i % 7 ? "decrypted" : "passed", 1 + i * 1448
	if (i % 100 == 0) printf "{\"dir\":\"rx\",\"seq\":%d,\"len\":0,\"verdict\":\"none\"}\n", 1 + i * 1448 } }' >"$TMP/big.jsonl"
"$TLSHIM" timeline "$TMP/big.jsonl" -o "$TMP/big.svg" 2>"$TMP/err"
size=$(stat -c %s "$TMP/big.svg" 2>/dev/null || echo 0)
if [ "$(count "$TMP/big.svg" 'class="seg ')" -eq 400 ] && [ "$size" -lt 300000 ] &&
   grep -q '>1100 more segments not shown (--from, --count); 15 without payload (ACKs) not drawn</text>' "$TMP/big.svg" &&
   { ! xmllint --version >/dev/null 2>&1 || xmllint --noout "$TMP/big.svg"; }; then ok "timeline-large-input ($size bytes)"
else bad timeline-large-input "$(count "$TMP/big.svg" 'class="seg ') boxes, $size bytes, note $(grep -o 'class="note">[^<]*' "$TMP/big.svg")"; fi

# --- many flows: each found again (hash), stderr names the first 20
awk 'BEGIN { for (r = 0; r < 3; r++) for (f = 0; f < 30; f++)
	printf "{\"dir\":\"rx\",\"src\":\"10.2.0.%d:443\",\"dst\":\"10.3.0.1:%d\",\"seq\":%d,\"len\":100,\"verdict\":\"decrypted\"}\n", f + 1, 1000 + f, 1 + r * 100 }' >"$TMP/flows.jsonl"
"$TLSHIM" timeline "$TMP/flows.jsonl" -o "$TMP/flows.svg" 2>"$TMP/err"
if [ "$(wc -l <"$TMP/err")" -eq 22 ] && grep -q '^  rx 10.2.0.1:443-10.3.0.1:1000  3 segments  (drawn)$' "$TMP/err" &&
   grep -q '^  rx 10.2.0.20:443-10.3.0.1:1019  3 segments$' "$TMP/err" && grep -q '^  ... and 10 more$' "$TMP/err" &&
   [ "$(count "$TMP/flows.svg" 'class="seg ')" -eq 3 ] &&
   "$TLSHIM" timeline "$TMP/flows.jsonl" -o "$TMP/flows.svg" --flow 10.2.0.27:443-10.3.0.1:1026 2>"$TMP/err" &&
   [ ! -s "$TMP/err" ] && [ "$(count "$TMP/flows.svg" 'class="seg ')" -eq 3 ] &&
   grep -q '<title>#86 seq 201 len 100' "$TMP/flows.svg"; then ok timeline-many-flows
else bad timeline-many-flows "$(head -3 "$TMP/err")"; fi

# --- stdin and stdout
if "$TLSHIM" timeline - -o - --dir rx <"$S" >"$TMP/pipe.svg" 2>"$TMP/err" &&
   [ "$(count "$TMP/pipe.svg" 'class="seg ')" -eq 12 ] && head -1 "$TMP/pipe.svg" | grep -q '^<?xml'; then
	ok timeline-stdin-stdout
else bad timeline-stdin-stdout "$(cat "$TMP/err")"; fi

# --- rendered: headless Chromium, then the screenshot's pixels
render() {	# render SVG PNG W H
	timeout 90 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$TMP/chromium-profile/" --screenshot="$2" \
		--window-size="$3,$4" "file://$1" >"$TMP/chromium.log" 2>&1
}
if ! command -v chromium >/dev/null; then
	echo "skip timeline-chromium-control: chromium not installed (make deps installs it)"
	echo "skip timeline-chromium-render: chromium not installed (make deps installs it)"
else
	# pngstat itself, on a known picture: a 100x50 blue box on white (the
	# window is larger: Chromium crops windows below some minimum size)
	printf '%s\n' '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">' \
		'<rect width="200" height="100" fill="#ffffff"/><rect x="10" y="10" width="100" height="50" fill="#4a90d9"/></svg>' >"$TMP/control.svg"
	render "$TMP/control.svg" "$TMP/control.png" 500 250
	st=$("$PNGSTAT" "$TMP/control.png" 4a90d9 5cb85c 2>&1 | tr '\n' ' ')
	if [ "$st" = "width 500 height 250 colors 2 nonwhite 5000 4a90d9 5000 5cb85c 0 " ]; then
		ok timeline-chromium-control
	else bad timeline-chromium-control "$st $(tail -3 "$TMP/chromium.log")"; fi

	render "$OUT" "$TMP/s.png" "$W" "$H"
	st=$("$PNGSTAT" "$TMP/s.png" 5cb85c 4a90d9 d62728 ff8c00 2>&1)
	get() { printf '%s\n' "$st" | awk -v k="$1" '$1 == k { print $2 }'; }
	px=$((W * H))
	# 5 green and 6 blue 78x13 px boxes (~4000 px each color), 6 stripes
	if [ "$(get width)" = "$W" ] && [ "$(get height)" = "$H" ] &&
	   [ "$(get 5cb85c)" -gt 3000 ] && [ "$(get 4a90d9)" -gt 3500 ] &&
	   [ "$(get d62728)" -gt 100 ] && [ "$(get ff8c00)" -gt 20 ] &&
	   [ "$(get nonwhite)" -gt $((px / 20)) ] && [ "$(get colors)" -gt 50 ]; then
		ok "timeline-chromium-render ($(printf '%s' "$st" | tr '\n' ' '))"
	else bad timeline-chromium-render "$(printf '%s' "$st" | tr '\n' ' ') $(tail -3 "$TMP/chromium.log")"; fi
	[ -n "${TIMELINE_KEEP_PNG:-}" ] && cp "$TMP/s.png" "$TIMELINE_KEEP_PNG"
fi

# --- bad input: status 2, one line naming what is bad, output untouched
expect_bad() {	# NAME PATTERN ARGS...
	local name=$1 pat=$2 rc err
	shift 2
	echo old >"$TMP/keep.svg"
	"$TLSHIM" timeline "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
	err=$(cat "$TMP/err")
	if [ "$rc" -ne 2 ]; then bad "$name" "exit $rc, want 2: $err"
	elif [ "$(wc -l <"$TMP/err")" -ne 1 ]; then bad "$name" "stderr not one line: $err"
	elif ! grep -q -- "$pat" "$TMP/err"; then bad "$name" "stderr '$err' lacks '$pat'"
	elif [ -s "$TMP/out" ] || [ "$(cat "$TMP/keep.svg")" != old ] ||
	     ls "$TMP"/keep.svg.tmp-* >/dev/null 2>&1; then bad "$name" "output touched"
	else ok "$name"; fi
}
line_file() {	# NAME: a file whose line 3 is the rest of the arguments
	head -2 "$S" >"$TMP/$1.jsonl"
	printf '%s\n' "$2" >>"$TMP/$1.jsonl"
	echo "$TMP/$1.jsonl"
}
K=(-o "$TMP/keep.svg")
expect_bad timeline-missing-file "^tlshim: bad $TMP/nope.jsonl: No such file or directory$" "$TMP/nope.jsonl" "${K[@]}"
: >"$TMP/empty.jsonl"
expect_bad timeline-empty-file "^tlshim: bad $TMP/empty.jsonl: no segments (0 lines" "$TMP/empty.jsonl" "${K[@]}"
expect_bad timeline-truncated-line "bad .*/trunc.jsonl: line 3: unterminated string at column" \
	"$(line_file trunc '{"dir":"rx","seq":1,"len":2,"verdict":"pas')" "${K[@]}"
expect_bad timeline-unclosed-object "line 3: expected ',' or '}', got end of line at column 28" \
	"$(line_file unclosed '{"dir":"rx","seq":1,"len":2')" "${K[@]}"
expect_bad timeline-bad-escape "line 3: bad escape in string: \\\\ then 'q'" \
	"$(line_file esc '{"dir":"rx","seq":1,"len":2,"verdict":"pa\qssed"}')" "${K[@]}"
expect_bad timeline-bad-number "line 3: bad number" \
	"$(line_file num '{"dir":"rx","seq":01,"len":2,"verdict":"passed"}')" "${K[@]}"
expect_bad timeline-not-object "line 3: expected '{', got '\['" \
	"$(line_file arr '[1,2]')" "${K[@]}"
expect_bad timeline-trailing-text "line 3: text after the object" \
	"$(line_file trail '{"dir":"rx","seq":1,"len":2,"verdict":"passed"} x')" "${K[@]}"
expect_bad timeline-duplicate-key 'line 3: key "seq" given twice' \
	"$(line_file dup '{"dir":"rx","seq":1,"seq":2,"len":2,"verdict":"passed"}')" "${K[@]}"
expect_bad timeline-string-seq 'line 3: "seq" must be an integer 0..4294967295' \
	"$(line_file sseq '{"dir":"rx","seq":"1","len":2,"verdict":"passed"}')" "${K[@]}"
expect_bad timeline-seq-too-big 'line 3: "seq" must be an integer 0..4294967295' \
	"$(line_file bseq '{"dir":"rx","seq":4294967296,"len":2,"verdict":"passed"}')" "${K[@]}"
expect_bad timeline-missing-verdict 'line 3: no "verdict"' \
	"$(line_file nov '{"dir":"rx","seq":1,"len":2}')" "${K[@]}"
expect_bad timeline-unknown-verdict 'line 3: unknown verdict "maybe"' \
	"$(line_file unv '{"dir":"rx","seq":1,"len":2,"verdict":"maybe"}')" "${K[@]}"
expect_bad timeline-bad-headers 'line 3: "headers" must hold TCP seqs' \
	"$(line_file hdr '{"dir":"rx","seq":1,"len":2,"verdict":"passed","headers":[1,-2]}')" "${K[@]}"
expect_bad timeline-bad-resync 'line 3: "resync" must be null, "request" or "confirmed"' \
	"$(line_file rsy '{"dir":"rx","seq":1,"len":2,"verdict":"passed","resync":"maybe"}')" "${K[@]}"
expect_bad timeline-bad-line-dir 'line 3: "dir" must be "rx" or "tx"' \
	"$(line_file ldir '{"dir":"up","seq":1,"len":2,"verdict":"passed"}')" "${K[@]}"
expect_bad timeline-raw-tab "line 3: control character (byte 0x09) in string" \
	"$(line_file tab $'{"dir":"rx","seq":1,"len":2,"verdict":"pa\tssed"}')" "${K[@]}"
expect_bad timeline-invalid-utf8 "line 3: invalid UTF-8 in string at column 48" \
	"$(line_file utf $'{"dir":"rx","seq":1,"len":2,"verdict":"x","s":"\xff"}')" "${K[@]}"
expect_bad timeline-lone-surrogate 'line 3: unpaired surrogate \\ud800' \
	"$(line_file sur '{"dir":"rx","seq":1,"len":2,"verdict":"passed","state":"\ud800x"}')" "${K[@]}"
expect_bad timeline-nul-escape 'line 3: \\u0000 in string' \
	"$(line_file nul '{"dir":"rx","seq":1,"len":2,"verdict":"passed","state":"a\u0000"}')" "${K[@]}"
expect_bad timeline-too-deep 'line 3: nested deeper than 64' \
	"$(line_file deep "{\"x\":$(printf '[%.0s' $(seq 70))$(printf ']%.0s' $(seq 70)),\"dir\":\"rx\"}")" "${K[@]}"
expect_bad timeline-unknown-dir "^tlshim: bad dir: 'up' (rx or tx)$" "$S" "${K[@]}" --dir up
expect_bad timeline-absent-dir "^tlshim: bad dir: no segment of that direction" "$TMP/wrap.jsonl" "${K[@]}" --dir tx
expect_bad timeline-bad-flow "^tlshim: bad flow: '10.1.0.1:443'" "$S" "${K[@]}" --flow 10.1.0.1:443
expect_bad timeline-absent-flow "^tlshim: bad flow: no segment of that flow" "$S" "${K[@]}" --flow 10.9.0.1:1-10.9.0.2:2
expect_bad timeline-zero-count "^tlshim: bad count: '0'" "$S" "${K[@]}" --count 0
expect_bad timeline-from-past-end "^tlshim: bad from: all 12 segments of the flow have an index below 99" "$S" "${K[@]}" --from 99
expect_bad timeline-seq-to-before-from "^tlshim: bad seq-to: 1000 is not after --seq-from 2000" "$S" "${K[@]}" --seq-from 2000 --seq-to 1000
expect_bad timeline-narrow "^tlshim: bad width: '10'" "$S" "${K[@]}" --width 10
expect_bad timeline-no-output "^tlshim: bad output: -o OUT.svg missing" "$S"
expect_bad timeline-no-input "^tlshim: bad arguments:" "${K[@]}"
expect_bad timeline-unknown-option "^tlshim: bad option: unknown option '--frob'" "$S" "${K[@]}" --frob
if "$TLSHIM" timeline --help | grep -q '^Usage: tlshim timeline IN.jsonl -o OUT.svg' &&
   "$TLSHIM" --help | grep -q 'tlshim timeline IN.jsonl -o OUT.svg'; then ok timeline-help
else bad timeline-help "no usage line"; fi

[ "$fails" -eq 0 ]
