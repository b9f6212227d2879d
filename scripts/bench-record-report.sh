#!/usr/bin/env bash
# Writes record.md (to stdout) and the PNG plots from the results directory
# that scripts/bench-record.sh filled: the one summary table, the targets,
# then each comparison's details, the exact commands and the load averages.
# With --docs it writes a finished run into the docs instead (see docs_step).
# usage: scripts/bench-record-report.sh RESULTS_DIR   (PLUMBAGO: the binary for the plots)
#        scripts/bench-record-report.sh --docs RESULTS_DIR [REPO]
#          RESULTS_DIR/record.md between the bench-record markers of
#          REPO/docs/benchmarks.md (all of it) and REPO/docs/bench-statsd.md
#          (its statsd rows and table), the plots copied to
#          REPO/docs/plots/record-*.png; everything outside the markers is
#          left as it is. REPO defaults to this checkout.
set -euo pipefail
if [ "${1:-}" = --docs ]; then
	exec "$(dirname "$0")/bench-record-docs.sh" "${@:2}"
fi
D=${1:?usage: bench-record-report.sh RESULTS_DIR}
cd "$D"
PLUMBAGO=${PLUMBAGO:-plumbago}
command -v "$PLUMBAGO" >/dev/null 2>&1 || PLUMBAGO=$(ls /tmp/bench-record.*/plumbago 2>/dev/null | head -1)

num() { jq -r "$2 // empty" "$1" 2>/dev/null; }
# e2etext NAME: the end-to-end rate, or why there is none.
e2etext() {
	[ -f "$1.json" ] || { echo "–"; return; }
	jq -r 'if .all_committed then "" else "not all committed: \(.committed|floor) of \(.points_sent) counted when the loader stopped waiting (\(.commit_seconds|floor) s; accepted at \(.send_rate|floor)/s\(if (.stored_points // 0) > 0 then "; \(.stored_points) points in its files then" else "" end))" end' "$1.json"
}
rate() { awk -v r="$1" 'BEGIN { if (r == "") print "–"; else if (r >= 1e6) printf "%.2f M/s", r / 1e6; else if (r >= 1e3) printf "%.1f k/s", r / 1e3; else printf "%.0f/s", r }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "–"; else printf "%.2f×", a / b }'; }
mib() { awk -v b="$1" 'BEGIN { if (b == "") print "–"; else printf "%.0f MiB", b / 1048576 }'; }
# load NAME: the load average recorded before and after the command named NAME.
load() { awk -F'\t' -v n="$1" '$1 == n && $2 != "after" { b = $2 } $1 == n && $2 == "after" { a = $3 } END { split(b, x, " "); split(a, y, " "); if (b != "") printf "%s → %s", x[1], y[1]; else print "–" }' commands.tsv 2>/dev/null; }
# e2e NAME: end-to-end points/s of a run, empty when not every point was committed.
e2e() { [ -f "$1.json" ] && jq -r 'if .all_committed then .commit_rate else empty end' "$1.json"; }

echo "# Benchmark record"
echo
echo "Written by \`scripts/bench-record.sh\` ($(sed -n 's/^mode: //p' machine.txt) mode). Machine and versions:"
echo
sed 's/^/- /' machine.txt
echo
echo "Every figure below comes from this one run, on this machine, with the loader on the same cores; ratios are"
echo "between figures of this run. The load average (1 min) is given before → after each command."
echo
echo "Settings, the same on every side where the peer has the setting:"
echo
echo "- Carbon ingest: carbon plaintext over 4 TCP connections from \`plumbago loadtest --scenario W1\`, payload built"
echo "  before the clock starts; figure = points sent ÷ seconds from the first byte until the server's own count of"
echo "  stored points reached the points sent (Plumbago: plumbago_points_committed_total, handed to the backend and"
echo "  queryable; VictoriaMetrics: vm_rows_added_to_storage_total, which counts rows before its pending-row buffer"
echo "  (up to about 2 s) makes them searchable, so its figure is if anything flattered; carbon-cache: the sum of"
echo "  carbon.agents.*.committedPoints written every 10 s, by their own timestamps)."
echo "- Schema: retentions 1s:15m,1m:1d, average, xFilesFactor 0 for carbon-cache and Plumbago;"
echo "  VictoriaMetrics has no per-series schema: raw points, -retentionPeriod 1d."
echo "- Durability: Plumbago --sync-interval 1s (WAL fsync period: a crash loses at most 1 s of accepted points);"
echo "  VictoriaMetrics -inmemoryDataFlushInterval 1s (its minimum; plus its pending-row buffer); carbon-cache at its"
echo "  defaults, WHISPER_AUTOFLUSH False (no fsync; a crash loses its whole cache) - the one peer with a weaker"
echo "  guarantee, which can only help it."
echo "- Socket buffers: TCP: VictoriaMetrics and carbon-cache leave SO_RCVBUF to the kernel's autotuning"
echo "  (net.ipv4.tcp_rmem, above); Plumbago sets its derived --socket-recv-buffer on its listeners, capped by"
echo "  net.core.rmem_max (above) and doubled by Linux, with autotuning off for those sockets, so its TCP buffer is"
echo "  at most the peers' autotuning ceiling. UDP statsd: every server on the OS default, net.core.rmem_default"
echo "  (Plumbago asks --socket-recv-buffer 106496, which Linux doubles to exactly that; the granted sizes are listed"
echo "  in the statsd section). No sysctl was changed by the script."
echo "- Flushes: statsd servers all flush every 10 s (etsy flushInterval 10000, collectd Interval 10, Plumbago"
echo "  --statsd-flush-interval 10s); 10,000 keys, 60% counters, 20% timers, 15% gauges, 5% sets, $(sed -n 's/^statsd loader sockets: //p' machine.txt | grep . || echo 2) UDP sockets"
echo "  sending (each key on one socket; the kernel spreads the flows over a server's SO_REUSEPORT sockets by source port)."
echo "- Queries: the same points (app.hostH.cpuC.mM at 10 s) sent to both at once; response caches off on both"
echo "  (Plumbago --render-cache -1, VictoriaMetrics -search.disableCache, -search.latencyOffset 0s); the requests"
echo "  alternate between the servers query by query; the client is the load generator on the same cores."
echo "- Graphs: graphite-web and Plumbago read the same whisper files, render cache off on both, in one test run."
echo "- Where the loader may be the bound, its own CPU is given and the row says \"loader-bound\"."
echo
echo "## Summary"
echo
echo "| comparison | Plumbago | peer | Plumbago ÷ peer | load average |"
echo "|---|---|---|---|---|"
for wl in W1-new W1-existing 1M-new; do
	pe=$(e2e "$wl-plumbago-pebble" || true)
	pw=$(e2e "$wl-plumbago-whisper" || true)
	vm=$(e2e "$wl-victoriametrics" || true)
	cc=$(e2e "$wl-carbon-cache" || true)
	[ -f "$wl-plumbago-pebble.json" ] && [ -f "$wl-victoriametrics.json" ] &&
		echo "| $wl ingest, end to end: pebble vs VictoriaMetrics | $(rate "$pe") | $(rate "$vm") | **$(ratio "$pe" "$vm")** | $(load "$wl-plumbago-pebble"), $(load "$wl-victoriametrics") |"
	cpu() { awk -v c="$(num "$1.json" .server_cpu_seconds)" -v n="$(num "$1.json" .points_sent)" 'BEGIN { if (c == "" || n == "") print ""; else printf "%.3f", 1e6 * c / n }'; }
	[ -f "$wl-plumbago-pebble.json" ] && [ -f "$wl-victoriametrics.json" ] &&
		echo "| $wl server CPU per point (µs; less is better, and steadier than wall time on a loaded box): pebble vs VictoriaMetrics | $(cpu "$wl-plumbago-pebble") | $(cpu "$wl-victoriametrics") | $(ratio "$(cpu "$wl-plumbago-pebble")" "$(cpu "$wl-victoriametrics")") | |"
	[ -f "$wl-plumbago-whisper.json" ] && [ -n "$cc" ] &&
		echo "| $wl server CPU per point sent (µs): whisper vs carbon-cache | $(cpu "$wl-plumbago-whisper") | $(cpu "$wl-carbon-cache") | $(ratio "$(cpu "$wl-plumbago-whisper")" "$(cpu "$wl-carbon-cache")") | |"
	[ -f "$wl-plumbago-pebble.json" ] && [ -f "$wl-victoriametrics.json" ] &&
		echo "| $wl peak RSS: pebble vs VictoriaMetrics | $(mib "$(num "$wl-plumbago-pebble.json" .server_peak_rss_bytes)") | $(mib "$(num "$wl-victoriametrics.json" .server_peak_rss_bytes)") | $(ratio "$(num "$wl-plumbago-pebble.json" .server_peak_rss_bytes)" "$(num "$wl-victoriametrics.json" .server_peak_rss_bytes)") | |"
	cct=$(rate "$cc") ccr=$cc ge=
	if [ -z "$cc" ] && [ -f "$wl-carbon-cache.json" ]; then
		# Not all committed when the loader stopped waiting: its rate was at most
		# the points sent over the seconds waited, so Plumbago's ratio is at least
		# its rate over that.
		cct=$(e2etext "$wl-carbon-cache")
		ccr=$(jq -r 'if (.timeline | length) > 0 and .timeline[-1].t > 0 then .points_sent / .timeline[-1].t else empty end' "$wl-carbon-cache.json")
		[ -n "$ccr" ] && cct="$cct: at most $(rate "$ccr") ($(jq -r '.points_sent' "$wl-carbon-cache.json") points over the $(jq -r '.timeline[-1].t | floor' "$wl-carbon-cache.json") s waited)" ge="≥ "
	fi
	[ -f "$wl-plumbago-pebble.json" ] && [ -f "$wl-carbon-cache.json" ] &&
		echo "| $wl ingest, end to end: pebble vs carbon-cache | $(rate "$pe") | $cct | **$ge$(ratio "$pe" "$ccr")** | $(load "$wl-carbon-cache") |"
	[ -f "$wl-plumbago-whisper.json" ] && [ -f "$wl-carbon-cache.json" ] &&
		echo "| $wl ingest, end to end: whisper vs carbon-cache | $(rate "$pw") | $cct | **$ge$(ratio "$pw" "$ccr")** | $(load "$wl-plumbago-whisper") |"
done
for wl in W1 1M; do
	[ -f "$wl-plumbago-pebble.disk" ] && [ -f "$wl-victoriametrics.disk" ] || continue
	pts=$(num "$wl-new-plumbago-pebble.json" .points_sent)
	[ -f "$wl-existing-plumbago-pebble.json" ] && pts=$((pts + $(num "$wl-existing-plumbago-pebble.json" .points_sent)))
	echo "| $wl data directory at rest (after stop), bytes per point: pebble vs VictoriaMetrics | $(awk -v b="$(cat "$wl-plumbago-pebble.disk")" -v p="$pts" 'BEGIN{printf "%.2f", b/p}') | $(awk -v b="$(cat "$wl-victoriametrics.disk")" -v p="$pts" 'BEGIN{printf "%.2f", b/p}') | $(ratio "$(cat "$wl-plumbago-pebble.disk")" "$(cat "$wl-victoriametrics.disk")") | |"
done
[ -f bytes-noisy.txt ] && echo "| bytes per point, noisy two-decimal gauges | $(cat bytes-noisy.txt) | | | |"
if [ -f bytes-noisy-plumbago-pebble.json ] && [ -f bytes-noisy-victoriametrics.json ]; then
	bp() { num "$1.json" .disk_bytes_per_point; }
	rest() { awk -v b="$(cat "$1.disk")" -v p="$(num "$1.json" .points_sent)" 'BEGIN { printf "%.2f", b / p }'; }
	ent=$(num bytes-noisy-plumbago-pebble.json .entropy_bytes_per_point)
	pts=$(num bytes-noisy-plumbago-pebble.json .points_sent)
	echo "| bytes per point, noisy two-decimal gauges ($pts points; the data's entropy $(awk -v e="$ent" 'BEGIN{printf "%.2f", e}') B/point), $(num bytes-noisy-plumbago-pebble.json .store_settle_seconds) s after the last commit: pebble vs VictoriaMetrics | $(awk -v x="$(bp bytes-noisy-plumbago-pebble)" 'BEGIN{printf "%.2f", x}') | $(awk -v x="$(bp bytes-noisy-victoriametrics)" 'BEGIN{printf "%.2f", x}') | $(ratio "$(bp bytes-noisy-plumbago-pebble)" "$(bp bytes-noisy-victoriametrics)") | $(load bytes-noisy-plumbago-pebble), $(load bytes-noisy-victoriametrics) |"
	echo "| the same, data directory at rest after a stop | $(rest bytes-noisy-plumbago-pebble) | $(rest bytes-noisy-victoriametrics) | $(ratio "$(rest bytes-noisy-plumbago-pebble)" "$(rest bytes-noisy-victoriametrics)") | |"
fi
[ -f query.md ] && grep -q TODO query.md && echo "| issue 18's query set vs VictoriaMetrics | $(cat query.md) | | | |"

# statsd: one row per run, then the highest rate each server took with loss under 1 % and at 0.
statsd_rows() {
	for f in statsd-*-r*.json; do
		[ -f "$f" ] || continue
		n=${f%.json}
		IFS=- read -r _ per srv r <<<"$n"
		r=${r#r}
		dropsfile=$n.drops
		sd=$(jq -r '.socket_drops' "$dropsfile" 2>/dev/null || echo 0)
		sn=$(jq -r '.softnet_drops' "$dropsfile" 2>/dev/null || echo 0)
		jq -r --arg srv "$srv" --arg per "$per" --arg r "$r" --argjson sd "$sd" --argjson sn "$sn" '
			def pct(a; b): if b > 0 then 100 * a / b else 0 end;
			(.points_sent) as $sent
			| (if $srv == "collectd" then $sd * ($per | tonumber) else .lost end) as $lost
			| [$srv, $per, $r, .send_rate, $sent, (if $srv == "collectd" then null else .committed end), pct($lost; $sent),
			   $sd * ($per | tonumber), $sn, (if $sent - $lost > 0 then 1e6 * (.server_cpu_seconds // 0) / ($sent - $lost) else 0 end),
			   (if .send_seconds > 0 then 100 * .loader_cpu_seconds / .send_seconds else 0 end),
			   (if .send_seconds > 0 and $sent > 0 then 1e6 * .loader_cpu_seconds / $sent else 0 end),
			   (($r | tonumber) == 0 or .send_rate < 0.97 * ($r | tonumber)),
			   (if .send_seconds > 0 then ($sent - $lost) / .send_seconds else 0 end),
			   (.server_peak_rss_bytes // 0)] | @tsv' "$f"
	done | sort -t$'\t' -k2,2n -k1,1 -k3,3n
}
ROWS=$(statsd_rows)
if [ -n "$ROWS" ]; then
	best() { # per srv maxloss: highest achieved send rate with loss <= maxloss
		awk -F'\t' -v per="$1" -v s="$2" -v m="$3" '$1 == s && $2 == per && $7 <= m && $4 > b { b = $4 } END { if (b > 0) print b }' <<<"$ROWS"
	}
	lowest() { # per srv: "none under 1% (least loss L% at R/s)"
		awk -F'\t' -v per="$1" -v s="$2" '$1 == s && $2 == per && (l == "" || $7 < l) { l = $7; r = $4 } END { if (l != "") printf "none under 1%% (least: %.2f%% at %.0f/s)", l, r }' <<<"$ROWS"
	}
	for per in 1 20; do
		pl=$(best "$per" plumbago 0.999)
		for peer in etsy collectd; do
			pr=$(best "$per" "$peer" 0.999)
			[ -n "$(awk -F'\t' -v s="$peer" -v p="$per" '$1 == s && $2 == p' <<<"$ROWS")" ] || continue
			bound=$(awk -F'\t' -v per="$per" -v r="$pl" '$1 == "plumbago" && $2 == per && $4 == r && $13 == 1 { print " (loader at its ceiling: Plumbago lost < 1% at the most the loader sent)" }' <<<"$ROWS")
			plt=$(rate "$pl") prt=$(rate "$pr")
			[ -n "$pl" ] || plt=$(lowest "$per" plumbago)
			[ -n "$pr" ] || prt=$(lowest "$per" "$peer")
			echo "| statsd, $per per datagram: highest rate with < 1% loss, Plumbago vs $peer | $plt$bound | $prt | **$(ratio "$pl" "$pr")**$([ -n "$bound" ] && echo ' (a lower bound)') | see the statsd table |"
		done
		most() { awk -F'\t' -v per="$1" -v s="$2" '$1 == s && $2 == per && $14 > b { b = $14 } END { if (b > 0) print b }' <<<"$ROWS"; }
		pm=$(most "$per" plumbago)
		for peer in etsy collectd; do
			em=$(most "$per" "$peer")
			[ -n "$em" ] && echo "| statsd, $per per datagram: most lines received per second at any rung of the ladder (lines sent minus lost, over the sending time), Plumbago vs $peer | $(rate "$pm") | $(rate "$em") | **$(ratio "$pm" "$em")** | see the statsd table |"
		done
		for srv in plumbago etsy collectd; do
			cpu=$(awk -F'\t' -v per="$per" -v s="$srv" '$1 == s && $2 == per && $10 > 0 { printf "%s%.3f at %s", sep, $10, ($3 == 0 ? "flat out" : $3 "/s"); sep = "; " }' <<<"$ROWS")
			[ -n "$cpu" ] && echo "| statsd, $per per datagram: $srv server CPU per metric received (µs; each rung of its ladder, flushes included) | $cpu | | | |"
		done
	done
fi

# queries: per run, the p50 and 8-client ratios against VictoriaMetrics per request.
QRUNS=
for r in fresh settled; do [ -s "query/$r.json" ] && QRUNS="$QRUNS $r"; done
qcount() { # run jq-condition-over-(p;v): "n of m"
	jq -r "[group_by(.Query)[] | (map(select(.Server == \"Plumbago\"))[0]) as \$p | (map(select(.Server == \"VictoriaMetrics\"))[0]) as \$v | select(\$p != null and \$v != null) | ($2)] | \"\\(map(select(.)) | length) of \\(length)\"" "query/$1.json"
}
for r in $QRUNS; do
	echo "| issue 18's query set, $r: requests with p50 ≤ ½ VictoriaMetrics' (sequential) | $(qcount "$r" '$p.SeqP50 <= 0.5 * $v.SeqP50') | | $(jq -r '[group_by(.Query)[] | (map(select(.Server == "Plumbago"))[0].SeqP50 / map(select(.Server == "VictoriaMetrics"))[0].SeqP50)] | "p50 ratios \(map(. * 100 | round / 100 | tostring + "×") | join(", "))"' "query/$r.json") | $(grep "^$r: load average before" query/machine.txt | awk '{print $5}') → $(grep "^$r: load average after" query/machine.txt | awk '{print $5}') |"
	echo "| issue 18's query set, $r: requests with ≥ 2× VictoriaMetrics' req/s at 8 clients and p99 no worse | $(qcount "$r" '$p.ReqPerSec >= 2 * $v.ReqPerSec and $p.ConcP99 <= $v.ConcP99') | | $(jq -r '[group_by(.Query)[] | (map(select(.Server == "Plumbago"))[0].ReqPerSec / map(select(.Server == "VictoriaMetrics"))[0].ReqPerSec)] | "req/s ratios \(map(. * 100 | round / 100 | tostring + "×") | join(", "))"' "query/$r.json") | |"
	echo "| issue 18's query set, $r: one series, 6 h, sequential p50 | $(jq -r '[.[] | select(.Server == "Plumbago" and (.Query | startswith("one series")))][0].SeqP50 | tostring + " ms"' "query/$r.json") | $(jq -r '[.[] | select(.Server == "VictoriaMetrics" and (.Query | startswith("one series")))][0].SeqP50 | tostring + " ms"' "query/$r.json") | | |"
done
# graphs: graphite-web's time per graph over Plumbago's (bigger is better).
GRAPH_ROWS=
[ -f graph.txt ] && GRAPH_ROWS=$(sed -n 's/.* \([^ ]*\): graphite-web \([0-9.]*\) ms wall, \([0-9.]*\) ms CPU; Plumbago \([0-9.]*\) ms wall, \([0-9.]*\) ms CPU .*: \([0-9.]*\)× faster in wall time, \([0-9.]*\)× in CPU time.*/\1\t\2\t\3\t\4\t\5\t\6\t\7/p' graph.txt)
while IFS=$'\t' read -r g gw gc pw pc rw rc; do
	[ -n "$g" ] || continue
	echo "| graph $g (issue 13): time per graph, render cache off, wall / CPU; graphite-web ÷ Plumbago (bigger is better) | $pw / $pc ms | graphite-web $gw / $gc ms | **$rw× / $rc×** | $(load graph) |"
done <<<"$GRAPH_ROWS"
# start-up: seconds from exec (startup.sh's lines: run N: healthz X s (cpu C s), ...).
startup_max() { # warm|cold check: the largest seconds over the runs, or "timeout"
	awk -v part="$1" -v c="$2" '/^page cache / { p = ($3 == part ":") } p && /^run / {
		if (index($0, c " timeout")) { t = 1 } else if (match($0, c " [0-9.]+ s")) { v = substr($0, RSTART + length(c) + 1, RLENGTH - length(c) - 3) + 0; if (v > m) m = v } }
		END { if (t) print "timeout"; else if (m != "") printf "%.2f", m }' startup.txt
}
if [ -f startup.txt ] && grep -q '^run ' startup.txt; then
	for part in warm cold; do
		h=$(startup_max "$part" healthz) f=$(startup_max "$part" find) r1=$(startup_max "$part" render1) rg=$(startup_max "$part" renderglob)
		[ -n "$h" ] && echo "| start-up, $(sed -n 's/^store: \([0-9]*\) series.*/\1/p' startup.txt) series, page cache $part: seconds from exec to /healthz; to a correct find; to both renders (the largest of the runs) | $h; $f; $r1 and $rg | | | $(load "startup-$part") |"
	done
fi
# steps and runs that gave no figure, and why.
for f in *.failed; do
	[ -f "$f" ] || continue
	echo "| ${f%.failed} | no figure: $(tr '\n|' ' /' <"$f") | | | |"
done

# --- against the targets ----------------------------------------------------------------------------
# Each target of design.md and issues #13, #18, #19, read from the figures above.
verdict() { # value op bound: met / not met / – (no figure)
	awk -v x="$1" -v op="$2" -v b="$3" 'BEGIN { if (x !~ /^[0-9]+([.][0-9]+)?$/) { print "no figure"; exit } x += 0
		ok = (op == ">=") ? x >= b : x <= b; print (ok ? "**met**" : "**not met**") }'
}
both() { # verdict verdict: met only when both are
	case "$1 $2" in *"no figure"*) echo "no figure" ;; *"not met"*) echo "**not met**" ;; *) echo "**met**" ;; esac
}
plain() { printf '%s' "$1" | sed 's/[*]//g; s/×//g; s/≥//g; s/ //g'; } # a ratio cell as a number
pe_vm() { ratio "$(e2e "$1-plumbago-pebble" || true)" "$(e2e "$1-victoriametrics" || true)"; }
rss_vm() { ratio "$(num "$1-plumbago-pebble.json" .server_peak_rss_bytes)" "$(num "$1-victoriametrics.json" .server_peak_rss_bytes)"; }
echo
echo "## Against the targets"
echo
echo "Each performance target, and this run's figure for it (from the rows above)."
echo
echo "| target (where it is set) | this run | |"
echo "|---|---|---|"
a=$(pe_vm W1-new) b=$(pe_vm W1-existing)
echo "| W1, pebble ≥ 3× VictoriaMetrics' points/s (design.md) | new series $a, existing $b | $(both "$(verdict "$(plain "$a")" ">=" 3)" "$(verdict "$(plain "$b")" ">=" 3)") |"
a=$(rss_vm W1-new) b=$(rss_vm W1-existing)
echo "| W1, pebble's peak RSS ≤ VictoriaMetrics' (design.md) | new series $a of VictoriaMetrics', existing $b | $(both "$(verdict "$(plain "$a")" "<=" 1)" "$(verdict "$(plain "$b")" "<=" 1)") |"
a=$(pe_vm 1M-new) b=$(rss_vm 1M-new)
echo "| 1 M series × 20 points, pebble ≥ 3× VictoriaMetrics, peak RSS ≤ VictoriaMetrics' (design.md) | $a the points/s, $b the peak RSS | $(both "$(verdict "$(plain "$a")" ">=" 3)" "$(verdict "$(plain "$b")" "<=" 1)") |"
w=$(e2e W1-new-plumbago-whisper || true) c=$(e2e W1-new-carbon-cache || true) ge=
if [ -z "$c" ] && [ -f W1-new-carbon-cache.json ]; then
	c=$(jq -r 'if (.timeline | length) > 0 and .timeline[-1].t > 0 then .points_sent / .timeline[-1].t else empty end' W1-new-carbon-cache.json) ge="≥ "
fi
a=$(ratio "$w" "$c")
v=$(verdict "$(plain "$a")" ">=" 8)
[ -n "$ge" ] && [ "$v" = "**not met**" ] && v="not shown (a lower bound: carbon-cache had not committed every point when the loader stopped waiting)"
echo "| W1, whisper ≥ 8× carbon-cache (design.md) | $ge$a | $v |"
a= b=
[ -f bytes-noisy-plumbago-pebble.json ] && a=$(awk -v x="$(num bytes-noisy-plumbago-pebble.json .disk_bytes_per_point)" 'BEGIN{printf "%.2f", x}')
[ -f bytes-noisy-plumbago-pebble.disk ] && b=$(awk -v d="$(cat bytes-noisy-plumbago-pebble.disk)" -v p="$(num bytes-noisy-plumbago-pebble.json .points_sent)" 'BEGIN{printf "%.2f", d / p}')
echo "| bytes per point on noisy two-decimal gauges ≤ 1.6, whole data directory (design.md, issue 19) | ${a:-–} settled, ${b:-–} at rest after a stop | $(verdict "$a" "<=" 1.6) |"
for r in fresh settled; do
	if [ -s "query/$r.json" ]; then
		p=$(qcount "$r" '$p.SeqP50 <= 0.5 * $v.SeqP50') q=$(qcount "$r" '$p.ReqPerSec >= 2 * $v.ReqPerSec and $p.ConcP99 <= $v.ConcP99')
		o=$(jq -r '[.[] | select(.Server == "Plumbago" and (.Query | startswith("one series")))][0].SeqP50 // empty' "query/$r.json")
		v="**not met**"
		[ "${p%% of*}" = "${p##*of }" ] && [ "${q%% of*}" = "${q##*of }" ] && [ "$(verdict "$o" "<=" 0.3)" = "**met**" ] && v="**met**"
		echo "| render, $r data: p50 ≤ ½ VictoriaMetrics' on issue 18's six queries and the Grafana POST; ≥ 2× its req/s at 8 clients with p99 no worse; one series ≤ 0.3 ms (issue 18 item 1) | p50: $p requests; req/s and p99: $q; one series $o ms (p50 with the harness's client, which is part of it) | $v |"
	else
		echo "| render, $r data, issue 18 item 1 | no figure | no figure |"
	fi
done
for per in 1 20; do
	b=1.5
	[ "$per" = 20 ] && b=0.1
	# Plumbago's CPU per metric at its highest offered rate with < 1% loss (else its least-loss rung).
	# Plumbago's CPU per metric at its highest rate with < 1% loss, else at its least-loss rung.
	w=$(awk -F'\t' -v per="$per" '$1 == "plumbago" && $2 == per { if ($7 < 1 && $4 > br) { br = $4; bc = $10; bl = $7 } if (l == "" || $7 < l) { l = $7; lc = $10; lr = $4 } }
		END { if (br != "") printf "%.3f\t%.0f/s, its highest rate with < 1%% loss (%.2f%%)", bc, br, bl; else if (lc != "") printf "%.3f\t%.0f/s, its least loss (%.2f%%; no rate under 1%%)", lc, lr, l }' <<<"${ROWS:-}")
	x=${w%%$'\t'*}
	echo "| statsd server CPU per metric ≤ $b µs at $per per datagram, flushes included (issue 18 item 2) | ${x:-–} µs${w:+ at ${w#*$'\t'}} (OS default receive buffer) | $(verdict "$x" "<=" "$b") |"
done
# The kernel's floor at the rates Plumbago ran (udpfloor, statsd_floor in bench-record.sh).
FLOOR=$(for f in floor-statsd-*-r*.json; do
	if [ "${f%.loader.json}" = "$f" ] && [ -f "$f" ]; then jq -r '[.per, .rate, .sent, .lines, .loss_percent, .us_per_datagram, .us_per_line, .reads] | @tsv' "$f"; fi
done | sort -t$'\t' -k1,1n -k2,2n)
for per in 1 20; do
	x=$(awk -F'\t' -v per="$per" '$1 == per { printf "%s%.3f µs per line at %s/s (%.2f%% lost)", sep, $7, $2, $5; sep = "; " }' <<<"$FLOOR")
	[ -n "$x" ] && echo "| statsd at $per per datagram: the kernel's floor at the same rates (a bare paced recvmmsg receiver on the same buffer, counting lines; not a target, the least any receiver pays here) | $x | context |"
done
x=$(awk -F'\t' '$1 == "plumbago" && $15 > 0 { printf "%s%.0f MiB at %.0f/s (%s per datagram)", sep, $15 / 1048576, $4, $2; sep = "; " }' <<<"${ROWS:-}")
echo "| statsd memory flat with rate (issue 18 item 2) | Plumbago's peak RSS: ${x:-–} | read the figures |"
while IFS=$'\t' read -r g gw gc pw pc rw rc; do
	[ -n "$g" ] || continue
	echo "| graphs ≥ 20× graphite-web per graph, render cache off (issue 13): $g | $rw× wall, $rc× CPU | $(both "$(verdict "$rw" ">=" 20)" "$(verdict "$rc" ">=" 20)") |"
done <<<"$GRAPH_ROWS"
[ -n "$GRAPH_ROWS" ] || echo "| graphs ≥ 20× graphite-web per graph, render cache off (issue 13) | no figure$([ -f graph.failed ] && echo ": $(tr '\n|' ' /' <graph.failed)") | no figure |"
if [ -f startup.txt ] && grep -q '^run ' startup.txt; then
	for part in warm cold; do
		h=$(startup_max "$part" healthz) f=$(startup_max "$part" find) r1=$(startup_max "$part" render1) rg=$(startup_max "$part" renderglob)
		[ -n "$h" ] || continue
		m=$(printf '%s\n' "$f" "$r1" "$rg" | sort -g | tail -1)
		v=$(both "$(verdict "$h" "<=" 1)" "$(verdict "$m" "<=" 3)")
		case "$h $f $r1 $rg" in *timeout*) v="**not met** (a check had no answer within startup.sh's 60 s)" ;; esac
		echo "| start-up, page cache $part: a $(sed -n 's/^store: \([0-9]*\) series.*/\1/p' startup.txt)-series store answers /healthz within 1 s and find and render within 3 s (issue 18 item 3; the target is for 2,000,000) | /healthz $h$([ "$h" = timeout ] || echo ' s'); find and renders $(case "$f $r1 $rg" in *timeout*) echo "no answer within 60 s" ;; *) echo "$m s" ;; esac) | $v |"
	done
else
	echo "| start-up: a 2 M-series store answers /healthz within 1 s and find and render within 3 s (issue 18 item 3) | no figure$([ -f startup.failed ] && echo ": $(tr '\n|' ' /' <startup.failed)") | no figure |"
fi

for wl in W1-new W1-existing 1M-new; do
	ls "$wl"-*.json >/dev/null 2>&1 || continue
	files=$(for t in carbon-cache victoriametrics plumbago-whisper plumbago-pebble; do [ -f "$wl-$t.json" ] && echo "$wl-$t.json"; done | paste -sd,)
	echo
	echo "## Carbon ingest: $wl"
	echo
	"$PLUMBAGO" loadtest --compare "$files" --plot "$wl.png"
	echo
	echo "![$wl: committed points/s over time]($wl.png)"
done
if ls ./*.disk >/dev/null 2>&1; then
	echo
	echo "Data directory at rest after a clean stop (\`du -sb\`, every pass of the workload included):"
	echo
	echo "| workload | target | bytes |"
	echo "|---|---|---|"
	for f in *.disk; do b=${f%.disk}; echo "| ${b%%-*} | ${b#*-} | $(cat "$f") |"; done
fi

if [ -n "$ROWS" ]; then
	echo
	echo "## statsd"
	echo
	echo "Every server flushes every 10 s and reads with the OS default UDP receive buffer; the SO_RCVBUF each"
	echo "server's sockets had (\`ss -m\`):"
	echo
	sed 's/^/- /' statsd-buffers.txt 2>/dev/null || true
	echo
	echo "Counted = the server's own count of lines received (etsy: statsd.metrics_received through its graphite"
	echo "backend into the loader's sink; Plumbago: plumbago_statsd_metrics_total, read from its /metrics once a second"
	echo "after sending, \`--poll 1s\`: each scrape costs Plumbago 2–3 ms of CPU, which is in its figure, while the sink"
	echo "costs etsy nothing; the loader waits until 13 s after the count last moved); collectd counts nothing, so its"
	echo "loss is its socket's drops. Socket drops = the growth of the drops column of /proc/net/udp for the"
	echo "server's port (datagrams × metrics per datagram): what the kernel discarded because that server did not"
	echo "read in time. Softnet drops: the kernel's per-CPU backlog (whole machine). Server CPU per metric includes"
	echo "the flushes. Loader CPU is the loader's own user+system time over its sending time (of one core); the rate is"
	echo "\"loader-bound\" where the loader sent less than offered (or the run was flat out, offered 0)."
	echo
	echo "| server | per datagram | offered/s | sent/s | lines sent | counted | loss | received/s | socket drops (lines) | softnet drops | server CPU µs/metric | server peak RSS | loader CPU % | loader CPU µs/metric | loader-bound |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' '{ printf "| %s | %s | %s | %.0f | %d | %s | %.3f%% | %.0f | %d | %d | %.3f | %.0f MiB | %.0f | %.3f | %s |\n", $1, $2, ($3 == 0 ? "flat out" : $3), $4, $5, ($6 == "" ? "–" : $6), $7, $14, $8, $9, $10, $15 / 1048576, $11, $12, ($13 == "true" ? "**yes**" : "no") }' <<<"$ROWS"
	if [ -n "$FLOOR" ]; then
		echo
		echo "The kernel's floor at each rate Plumbago ran: \`ingest/testdata/udpfloor --sockets 2 --pace --rcvbuf 106496\`"
		echo "(two SO_REUSEPORT sockets on the same 212,992-byte buffer, each read by a blocking recvmmsg paced as Plumbago's"
		echo "readers are, the lines counted and nothing else; no flushes, no parse) under the same loader command. Its"
		echo "CPU per line is what any receiver on this kernel pays at that rate before it does any work; its loss is what"
		echo "the buffer and the wake-ups lose by themselves. Plumbago's figure at the same rate is beside it."
		echo
		echo "| per datagram | offered/s | lines sent | lines received | loss | reads | µs per datagram | µs per line | Plumbago µs per metric at this rate | Plumbago's loss |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
		while IFS=$'\t' read -r per r sent lines loss upd upl reads; do
			pw=$(awk -F'\t' -v per="$per" -v r="$r" '$1 == "plumbago" && $2 == per && $3 == r { printf "%.3f\t%.3f%%", $10, $7 }' <<<"$ROWS")
			printf '| %s | %s | %s | %s | %.3f%% | %s | %.3f | %.3f | %s | %s |\n' "$per" "$r" "$sent" "$lines" "$loss" "$reads" "$upd" "$upl" "${pw%%$'\t'*}" "${pw#*$'\t'}"
		done <<<"$FLOOR"
	fi
fi

if [ -f query.md ]; then
	echo
	echo "## Queries: issue 18's set against VictoriaMetrics"
	echo
	cat query.md
fi

if [ -n "$GRAPH_ROWS" ]; then
	echo
	echo "## Graphs against graphite-web"
	echo
	echo "\`GRAPH_BENCH=1 go test -run TestGraphSpeedVsGraphiteWeb ./query/graph\`: 100 whisper files of 1,000 one-minute points;"
	echo "Debian's graphite-web renders through its Django view (render cache off, 10 renders after a warm-up) and Plumbago"
	echo "through its /render handler in the same process run (testing.Benchmark), each timed by wall clock and by the"
	echo "CPU time of its process. The test's lines:"
	echo
	echo '\`\`\`'
	grep 'faster in wall time' graph.txt | sed 's/^ *//'
	echo '\`\`\`'
fi
if [ -f startup.txt ] && grep -q '^run ' startup.txt; then
	echo
	echo "## Start-up"
	echo
	echo "\`storage/pebble/testdata/mkstore\` writes a pebble store (one point a series), then"
	echo "\`storage/pebble/testdata/startup.sh\` starts \`plumbago serve\` on it and polls every 20 ms: seconds from exec"
	echo "to each answer, with the server's CPU seconds then; cold = the store's files dropped from the page cache first."
	echo
	echo '\`\`\`'
	cat startup.txt
	echo '\`\`\`'
fi

echo
echo "## Commands"
echo
echo "Each command as run (the results directory's commands.tsv; configuration files in conf/), with the load average before it:"
echo
echo '```'
awk -F'\t' '$2 != "after" { printf "# %s (load %s)\n%s\n", $1, $2, $3 }' commands.tsv 2>/dev/null | sed "s#$PWD/##g; s#/tmp/bench-record\.[A-Za-z0-9]*/plumbago#plumbago#g"
echo '```'
