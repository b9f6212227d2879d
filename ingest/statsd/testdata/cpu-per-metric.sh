#!/bin/bash
# Server CPU per statsd metric, peak RSS, and the kernel's floor, one run:
# the loader (`plumbago loadtest --scenario statsd-1`) sends for SECS seconds
# at RATE metrics/s, PER metrics per datagram, to either
#   server  a fresh `plumbago serve` (BINARY), 32 MiB socket buffers (RCVBUF), 10 s
#           flushes: its user+system CPU from /proc over the run (flushes
#           included) divided by the metrics it counted
#           (plumbago_statsd_metrics_total, read after the next flush), and
#           its peak RSS (VmHWM), and the kernel's drops on the statsd
#           port from /proc/net/udp (sent - counted should equal them: a
#           metric lost elsewhere would show as a difference); a start that
#           fails (a port another process took) is retried on other ports;
#   floor   ingest/testdata/udpfloor: two SO_REUSEPORT sockets read by
#           blocking recvmmsg, the datagrams counted and nothing else: the
#           CPU per datagram any receiver on this kernel pays;
#   floor-paced  the same with udpfloor --pace: each reader sleeps between
#           reads as the server's do (ingest/udppace), the batched floor.
# The loader's own CPU is printed too (it shares the cores).
#
# usage: ingest/statsd/testdata/cpu-per-metric.sh server|floor|floor-paced BINARY PER RATE SECS [MIX]
#   e.g. ... server ./plumbago 1 300000 10; ... floor ./plumbago 20 3000000 10
#   MIX is the loader's --mix (default c=60,ms=20,g=15,s=5).
#   RCVBUF (environment) is the server's --socket-recv-buffer and udpfloor's
#   --rcvbuf in the floor modes (default 32 MiB; 106496 gives the OS default
#   212,992 that Linux doubles it to).
#   FLUSH (environment) is the server's --statsd-flush-interval in seconds
#   (default 10). WARMUP (environment, server mode) is a warm-up in seconds
#   (default FLUSH: one interval): the loader sends for WARMUP + SECS + two
#   intervals, and CPU and metrics are taken at the first flush after WARMUP
#   and at the first flush at least SECS later (flushes seen as
#   plumbago_statsd_metrics_total changing, polled every 0.05 s), so the
#   window is whole intervals in the steady state (the first interval's
#   growth of tables and sample slices left out). WARMUP=0 is the old
#   measure: the whole SECS run from a fresh server, plus the flush after it.
#   FLOORFLAGS (environment) are more udpfloor flags for the floor modes,
#   e.g. "--slots 256 --max-wait 4ms" (bigger batches per recvmmsg).
set -eu
mode=$1 bin=$2 per=$3 rate=$4 secs=$5 mix=${6:-c=60,ms=20,g=15,s=5}
flush=${FLUSH:-10} warmup=${WARMUP:-${FLUSH:-10}}
cd "$(dirname "$0")/../../.."
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
base=$((40000 + RANDOM % 5000))
tck=$(getconf CLK_TCK)
load() {
	/usr/bin/time -f "%U %S" -o "$work/loader.time" "$bin" loadtest --scenario statsd-1 --per-datagram "$per" \
		--addr "127.0.0.1:$1" --rate "$rate" --duration "${2:-$secs}s" --mix "$mix" --quiet >"$work/load.out" 2>&1
	sent=$(awk '/points sent/ {print $3}' "$work/load.out")
	read -r lu ls <"$work/loader.time"
}
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$mode" = floor ] || [ "$mode" = floor-paced ]; then
	go build -o "$work/udpfloor" ./ingest/testdata/udpfloor
	pace=false
	[ "$mode" = floor-paced ] && pace=true
	# shellcheck disable=SC2086 # FLOORFLAGS is a list of flags
	"$work/udpfloor" --addr "127.0.0.1:$base" --sockets 2 --pace=$pace --rcvbuf "${RCVBUF:-33554432}" ${FLOORFLAGS:-} >"$work/floor.out" 2>&1 &
	pid=$!
	sleep 0.5
	load $base
	sleep 0.5
	kill -TERM $pid
	wait $pid || true
	pid=
	echo "$mode: sent $sent metrics, $(tail -1 "$work/floor.out")"
else
	# A port another process took makes serve exit (or never answer):
	# start again on other ports, up to five times.
	for try in 1 2 3 4 5; do
		hp=$((40000 + RANDOM % 5000))
		"$bin" serve --data-dir "$work/data" --http-addr 127.0.0.1:$hp --carbon-addr "" --pickle-addr "" --carbonlink-addr "" \
			--statsd-addr 127.0.0.1:$((hp + 1)) --statsd-admin-addr 127.0.0.1:$((hp + 2)) --statsd-flush-interval "${flush}s" \
			--log-level warn --socket-recv-buffer "${RCVBUF:-33554432}" >"$work/serve.log" 2>&1 &
		pid=$!
		up=false
		for _ in $(seq 150); do
			kill -0 $pid 2>/dev/null || break
			curl -s -o /dev/null http://127.0.0.1:$hp/healthz && up=true && break
			sleep 0.2
		done
		$up && break
		echo "server start $try failed on ports $hp-$((hp + 2)): $(tail -1 "$work/serve.log")"
		kill $pid 2>/dev/null || true
		wait $pid 2>/dev/null || true
		pid=
		rm -rf "$work/data"
		[ "$try" = 5 ] && exit 1
	done
	metrics() { curl -s http://127.0.0.1:$hp/metrics | awk '/^plumbago_statsd_metrics_total/ {print $2}'; }
	# the kernel's drops on the statsd port (the sum over its SO_REUSEPORT
	# sockets in /proc/net/udp): datagrams that found a full socket buffer
	drops() { awk -v p="$(printf ':%04X' $((hp + 1)))" 'substr($2, length($2) - 4) == p {n += $NF} END {print n + 0}' /proc/net/udp; }
	# context switches of every thread: a blocked reader's wake-up is one
	csw() { cat /proc/$pid/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n}'; }
	sample() { # CPU ticks, context switches, metrics, kernel drops, time
		read -r "u$1" "s$1" < <(awk '{print $14, $15}' /proc/$pid/stat)
		printf -v "c$1" %s "$(csw)"
		printf -v "d$1" %s "$(drops)"
		printf -v "t$1" %s "$(date +%s.%N)"
	}
	# waitflush: poll until plumbago_statsd_metrics_total changes (a flush
	# with traffic in it), leaving the new value in m
	waitflush() {
		local was
		was=$(metrics)
		for _ in $(seq $((flush * 60))); do
			m=$(metrics)
			[ "$m" != "$was" ] && return
			sleep 0.05
		done
		echo "no flush seen in $((flush * 3)) s" >&2
		exit 1
	}
	if [ "$warmup" = 0 ]; then
		sample 0
		m0=$(metrics)
		load $((hp + 1))
		sleep $((flush + 1)) # plumbago_statsd_metrics_total counts as of the last flush
		m1=$(metrics)
		sample 1
		window=$secs span=$secs
	else
		load $((hp + 1)) $((warmup + secs + 2 * flush)) &
		lpid=$!
		sleep "$warmup"
		waitflush
		sample 0
		m0=$m
		sleep $((secs - 1 > 0 ? secs - 1 : 0))
		waitflush
		sample 1
		m1=$m
		window=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
		# the counted metrics are whole intervals; the CPU was read at the
		# flushes as seen, a few tenths of a second late at either end:
		# scale it to the intervals' length (the CPU rate is steady)
		span=$(awk -v w="$window" -v f="$flush" 'BEGIN {k = int(w / f + 0.5); print (k < 1 ? 1 : k) * f}')
		wait $lpid
		sent=$(awk '/points sent/ {print $3}' "$work/load.out")
		read -r lu ls <"$work/loader.time"
		echo "measured window: ${window} s between the flushes as seen, ${span} s of intervals, after a ${warmup} s warm-up (flush interval ${flush} s; the loader ran $((warmup + secs + 2 * flush)) s); CPU scaled by ${span}/${window}"
	fi
	hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
	kill $pid
	wait $pid || true
	pid=
	awk -v u="$(awk -v x=$((u1 - u0)) -v a="$span" -v b="$window" 'BEGIN {print x * a / b}')" \
		-v s="$(awk -v x=$((s1 - s0)) -v a="$span" -v b="$window" 'BEGIN {print x * a / b}')" -v t="$tck" -v n="$(awk -v a="$m1" -v b="$m0" 'BEGIN{print a-b}')" \
		-v sent="$sent" -v hwm="$hwm" -v secs="$span" -v per="$per" -v csw=$((c1 - c0)) -v drops=$((d1 - d0)) -v warm="$warmup" 'BEGIN {
		# with a warm-up, sent covers the whole run: the window only has
		# what was counted and the kernel drops (sent - counted matched
		# them in every run without one)
		if (warm > 0) { printf "whole run: sent %d; in the window: ", sent; sent = n + drops * per }
		printf "server: sent %d, counted %d (%.2f%% lost, %.0f/s received), CPU %.2f s (user %.2f, system %.2f) = %.3f us per metric (user %.3f; system %.3f us per datagram), %d context switches (%.1f datagrams each), peak RSS %d MB\n",
			sent, n, 100 * (sent - n) / sent, n / secs, (u + s) / t, u / t, s / t, 1e6 * (u + s) / t / n, 1e6 * u / t / n, 1e6 * s / t / (n / per), csw, n / per / csw, hwm / 1024
		printf "kernel drops on the statsd port: %d datagrams = %d metrics; sent - counted = %d\n", drops, drops * per, sent - n }'
fi
echo "loader: user $lu s, system $ls s over its whole run"
