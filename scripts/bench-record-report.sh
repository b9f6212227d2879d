#!/usr/bin/env bash
# Writes record.md (to stdout) and the PNG plots from the results directory
# that scripts/bench-record.sh filled: the one summary table, then each
# comparison's details, the exact commands and the load averages.
# usage: scripts/bench-record-report.sh RESULTS_DIR   (PLUMBAGO: the binary for the plots)
set -euo pipefail
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
echo "  --statsd-flush-interval 10s); 10,000 keys, 60% counters, 20% timers, 15% gauges, 5% sets, 2 UDP sockets."
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
	cct=$(rate "$cc")
	[ -n "$cc" ] || cct=$(e2etext "$wl-carbon-cache")
	[ -f "$wl-plumbago-pebble.json" ] && [ -f "$wl-carbon-cache.json" ] &&
		echo "| $wl ingest, end to end: pebble vs carbon-cache | $(rate "$pe") | $cct | **$(ratio "$pe" "$cc")** | $(load "$wl-carbon-cache") |"
	[ -f "$wl-plumbago-whisper.json" ] && [ -f "$wl-carbon-cache.json" ] &&
		echo "| $wl ingest, end to end: whisper vs carbon-cache | $(rate "$pw") | $cct | **$(ratio "$pw" "$cc")** | $(load "$wl-plumbago-whisper") |"
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
			   (if .send_seconds > 0 then ($sent - $lost) / .send_seconds else 0 end)] | @tsv' "$f"
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
	echo "backend into the loader's sink; Plumbago: plumbago_statsd_metrics_total); collectd counts nothing, so its"
	echo "loss is its socket's drops. Socket drops = the growth of the drops column of /proc/net/udp for the"
	echo "server's port (datagrams × metrics per datagram): what the kernel discarded because that server did not"
	echo "read in time. Softnet drops: the kernel's per-CPU backlog (whole machine). Server CPU per metric includes"
	echo "the flushes. Loader CPU is the loader's own user+system time over its sending time (of one core); the rate is"
	echo "\"loader-bound\" where the loader sent less than offered (or the run was flat out, offered 0)."
	echo
	echo "| server | per datagram | offered/s | sent/s | lines sent | counted | loss | received/s | socket drops (lines) | softnet drops | server CPU µs/metric | loader CPU % | loader CPU µs/metric | loader-bound |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' '{ printf "| %s | %s | %s | %.0f | %d | %s | %.3f%% | %.0f | %d | %d | %.3f | %.0f | %.3f | %s |\n", $1, $2, ($3 == 0 ? "flat out" : $3), $4, $5, ($6 == "" ? "–" : $6), $7, $14, $8, $9, $10, $11, $12, ($13 == "true" ? "**yes**" : "no") }' <<<"$ROWS"
fi

if [ -f query.md ]; then
	echo
	echo "## Queries: issue 18's set against VictoriaMetrics"
	echo
	cat query.md
fi

echo
echo "## Commands"
echo
echo "Each command as run (the results directory's commands.tsv; configuration files in conf/), with the load average before it:"
echo
echo '```'
awk -F'\t' '$2 != "after" { printf "# %s (load %s)\n%s\n", $1, $2, $3 }' commands.tsv 2>/dev/null | sed "s#$PWD/##g; s#/tmp/bench-record\.[A-Za-z0-9]*/plumbago#plumbago#g"
echo '```'
