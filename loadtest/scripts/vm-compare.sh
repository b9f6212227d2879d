#!/usr/bin/env bash
# Side-by-side ingest benchmark behind docs/bench-rounds.md ("Ingest rate
# and memory", issue 19 item 2): W1 (100,000 series x 100 points) and
# 1,000,000 series x 20 points (10 M and 20 M points), carbon
# plaintext over 4 TCP connections, back-filled, against VictoriaMetrics
# (-graphiteListenAddr) and Plumbago with pebble, one after the other on
# this machine, loader on the same box. For each run: points/s end to end
# (first byte to the last point counted by the server), the server's peak
# RSS (VmHWM) and its RSS after IDLE seconds without load.
#
# usage: loadtest/scripts/vm-compare.sh OUTDIR
#   env: PLUMBAGO  plumbago binary (default: built from this checkout as it ships,
#                  scripts/build-plumbago.sh: CGO_ENABLED=0 -trimpath)
#        VM        victoria-metrics binary (default /work/tools/victoria-metrics)
#        RUNS      workloads (default "w1 1mx20")
#        IDLE      seconds to wait after the load before the idle RSS (default 90:
#                  Plumbago flushes pebble's memtable and frees memory after 30 s idle)
#        EXTRA     extra flags for plumbago serve
#        SERVERS   which servers (default "vm plumbago")
set -euo pipefail

OUT=${1:?usage: vm-compare.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/plumbago-vm.XXXXXX)
VM=${VM:-/work/tools/victoria-metrics}
RUNS=${RUNS:-"w1 1mx20"}
IDLE=${IDLE:-90}
SERVERS=${SERVERS:-"vm plumbago"}
EXTRA=${EXTRA:-}
if [ -z "${PLUMBAGO:-}" ]; then
	PLUMBAGO=$WORK/plumbago
	"$ROOT/scripts/build-plumbago.sh" "$PLUMBAGO"
fi
printf '[w1]\npattern = .*\nretentions = 1s:15m,1m:1d\n' >"$WORK/schemas.conf"
printf '[default]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n' >"$WORK/aggregation.conf"
{
	echo "date: $(date -u +%FT%TZ)"
	echo "plumbago: checkout $(cd "$ROOT" && git rev-parse --short HEAD)"
	echo "plumbago build: $("$ROOT/scripts/build-plumbago.sh" --settings "$PLUMBAGO" 2>/dev/null || echo unknown) ($PLUMBAGO)"
	# A binary built with go install prints an empty -version: fall back to
	# the module version recorded in it.
	vmv=$("$VM" -version 2>&1 | head -1 || true)
	if [ -z "$vmv" ]; then
		vmv=$(go version -m "$VM" 2>/dev/null | awk '$1 == "mod" && $2 ~ /VictoriaMetrics$/ {print $2, $3; exit}')
	fi
	echo "victoria-metrics: ${vmv:-unknown} ($VM)"
	echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt"

wait_port() { # host port
	for _ in $(seq 1 300); do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "port $1:$2 never opened" >&2
	return 1
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
has() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }
rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }

args_of() { # run -> loadtest flags
	case $1 in
	w1) echo "--scenario W1" ;;
	1mx20) echo "--scenario W1 --metrics 1000000 --points 20 --prefix loadtest.m1" ;;
	esac
}

for run in $RUNS; do
	# VictoriaMetrics.
	if has vm; then
	rm -rf "$WORK/vm"
	H=$(freeport) G=$(freeport)
	"$VM" -storageDataPath "$WORK/vm" -httpListenAddr "127.0.0.1:$H" -graphiteListenAddr "127.0.0.1:$G" \
		-retentionPeriod 2d -loggerLevel ERROR >"$OUT/vm-$run.log" 2>&1 &
	VPID=$!
	wait_port 127.0.0.1 "$H"
	wait_port 127.0.0.1 "$G"
	# shellcheck disable=SC2046
	"$PLUMBAGO" loadtest $(args_of "$run") --addr "127.0.0.1:$G" \
		--committed "prom:http://127.0.0.1:$H/metrics#vm_rows_added_to_storage_total" \
		--server-pid "$VPID" --settle 30s --quiet --json "$OUT/$run-vm.json" | tee "$OUT/$run-vm.txt"
	sleep "$IDLE"
	echo "rss after ${IDLE}s idle: $(rss "$VPID") bytes" | tee -a "$OUT/$run-vm.txt"
	stop "$VPID"
	fi
	has plumbago || continue

	# Plumbago, pebble.
	rm -rf "$WORK/data"
	# shellcheck disable=SC2086
	C=$(freeport) H=$(freeport)
	"$PLUMBAGO" serve --backend pebble --data-dir "$WORK/data" --carbon-addr "127.0.0.1:$C" --carbon-udp-addr off \
		--pickle-addr "" --statsd-addr "" --statsd-admin-addr "" --carbonlink-addr "" --protobuf-addr "" \
		--http-addr "127.0.0.1:$H" --schemas "$WORK/schemas.conf" --aggregation "$WORK/aggregation.conf" \
		$EXTRA >"$OUT/plumbago-$run.log" 2>&1 &
	SPID=$!
	wait_port 127.0.0.1 "$H"
	# shellcheck disable=SC2046
	"$PLUMBAGO" loadtest $(args_of "$run") --addr "127.0.0.1:$C" --plumbago "http://127.0.0.1:$H" \
		--server-pid "$SPID" --settle 30s --quiet --json "$OUT/$run-plumbago.json" | tee "$OUT/$run-plumbago.txt"
	sleep "$IDLE"
	echo "rss after ${IDLE}s idle: $(rss "$SPID") bytes" | tee -a "$OUT/$run-plumbago.txt"
	curl -s "http://127.0.0.1:$H/metrics" | grep -E '^plumbago_(pebble_(l0|compaction|wal|memtable|idle)|go_heap|resident|series |series_forgotten|backpressure)' >"$OUT/$run-plumbago-metrics.txt" || true
	stop "$SPID"
done
"$PLUMBAGO" loadtest --compare "$(ls "$OUT"/*.json | paste -sd, -)" | tee "$OUT/compare.md"
rm -rf "$WORK" # after the compare: the binary built above lives in it
