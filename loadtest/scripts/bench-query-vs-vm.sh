#!/usr/bin/env bash
# Render path side by side (issue 18's table, docs/bench-query.md): the same
# dataset (app.hostH.cpuC.mM, SERIES x 2,160 points at 10 s ending now) sent at
# once to VictoriaMetrics and to Plumbago (pebble), then issue 18's six queries
# and its Grafana panel request timed on both, alternating query by query:
# sequential p50, then 8 concurrent clients' p50/p99/req/s. Response caches are
# off on both sides (Plumbago --render-cache -1; VictoriaMetrics
# -search.disableCache). Two runs: "fresh" right after the load is stored,
# "settled" after both servers were restarted (Plumbago's memtables flushed to
# sstables, VictoriaMetrics' parts merged on its own schedule).
#
# usage: loadtest/scripts/bench-query-vs-vm.sh OUTDIR
#   env: PLUMBAGO  plumbago binary (default: built from this checkout)
#        VM        victoria-metrics binary (default: /work/tools/victoria-metrics,
#                  else `go install github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@v1.151.0`)
#        SERIES    series (default 100000; a multiple of 1,000, at least 6,000)
#        SEQ       sequential requests per query and server (default 30)
#        CLIENTS   concurrent clients (default 8); DURATION their run per query (default 10s)
#        RUNS      "fresh settled" (default) or one of them
#        BEFORE    a second plumbago binary (e.g. built from an older commit): run as a third
#                  server, "Plumbago-before", loaded and timed in the same run (before/after tables)
# Output: OUTDIR/machine.txt, OUTDIR/<run>.md (the table), OUTDIR/<run>.json.
set -euo pipefail

OUT=${1:?usage: bench-query-vs-vm.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/plumbago-qvs.XXXXXX)
SERIES=${SERIES:-100000}
SEQ=${SEQ:-30}
CLIENTS=${CLIENTS:-8}
DURATION=${DURATION:-10s}
RUNS=${RUNS:-"fresh settled"}

if [ -z "${PLUMBAGO:-}" ]; then
	PLUMBAGO=$WORK/plumbago
	"$ROOT/scripts/build-plumbago.sh" "$PLUMBAGO"
fi
if [ -z "${VM:-}" ]; then
	if [ -x /work/tools/victoria-metrics ]; then
		VM=/work/tools/victoria-metrics
	else
		GOBIN=$WORK go install github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@v1.151.0
		VM=$WORK/victoria-metrics
	fi
fi

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P_HTTP=$(freeport)
P_CARBON=$(freeport)
V_HTTP=$(freeport)
V_GRAPHITE=$(freeport)
B_HTTP=$(freeport)
B_CARBON=$(freeport)

printf '[app]\npattern = ^app\\.\nretentions = 10s:1d\n\n[default]\npattern = .*\nretentions = 10s:1d\n' >"$WORK/schemas.conf"
printf '[default]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n' >"$WORK/aggregation.conf"

PPID_=
VPID=
BPID=
run_plumbago() { # binary name http-port carbon-port
	"$1" serve --backend pebble --data-dir "$WORK/$2-data" \
		--http-addr "127.0.0.1:$3" --carbon-addr "127.0.0.1:$4" --carbon-udp-addr off \
		--pickle-addr "" --statsd-addr "" --statsd-admin-addr "" --carbonlink-addr "" \
		--schemas "$WORK/schemas.conf" --aggregation "$WORK/aggregation.conf" \
		--render-cache -1 --max-series -1 >>"$WORK/$2.log" 2>&1 &
}
start_plumbago() {
	run_plumbago "$PLUMBAGO" plumbago "$P_HTTP" "$P_CARBON"
	PPID_=$!
	if [ -n "${BEFORE:-}" ]; then
		run_plumbago "$BEFORE" plumbago-before "$B_HTTP" "$B_CARBON"
		BPID=$!
		wait_http "http://127.0.0.1:$B_HTTP/healthz"
	fi
	wait_http "http://127.0.0.1:$P_HTTP/healthz"
}
start_vm() {
	"$VM" -storageDataPath "$WORK/vm-data" -retentionPeriod 2d \
		-httpListenAddr "127.0.0.1:$V_HTTP" -graphiteListenAddr "127.0.0.1:$V_GRAPHITE" \
		-search.disableCache -search.latencyOffset 0s >>"$WORK/vm.log" 2>&1 &
	VPID=$!
}
stop_all() {
	for p in $PPID_ $VPID $BPID; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $PPID_ $VPID $BPID; do wait "$p" 2>/dev/null || true; done
	PPID_= VPID= BPID=
}
wait_http() { # url
	for _ in $(seq 1 600); do
		if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
		sleep 0.2
	done
	echo "no answer from $1" >&2
	return 1
}
cleanup() { stop_all; rm -rf "$WORK"; }
trap cleanup EXIT

{
	echo "date: $(date -u +%FT%TZ)"
	echo "plumbago: checkout $(cd "$ROOT" && git rev-parse --short HEAD)"
	echo "victoria-metrics: $VM"
	echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "dataset: $SERIES series x 2160 points at 10 s; $SEQ sequential requests, $CLIENTS clients x $DURATION per query and server"
	echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt"

SERVERS="VictoriaMetrics=http://127.0.0.1:$V_HTTP;carbon=127.0.0.1:$V_GRAPHITE;counter=vm_rows_inserted_total;flush=/internal/force_flush"
if [ -n "${BEFORE:-}" ]; then
	SERVERS="$SERVERS,Plumbago-before=http://127.0.0.1:$B_HTTP;carbon=127.0.0.1:$B_CARBON;counter=plumbago_points_committed_total"
fi
SERVERS="$SERVERS,Plumbago=http://127.0.0.1:$P_HTTP;carbon=127.0.0.1:$P_CARBON;counter=plumbago_points_committed_total"

start_plumbago
start_vm
wait_http "http://127.0.0.1:$V_HTTP/health"
load=--load
for run in fresh settled; do
	case " $RUNS " in *" $run "*) ;; *)
		if [ "$run" = fresh ]; then
			"$PLUMBAGO" loadtest --scenario query-vs --servers "$SERVERS" --series "$SERIES" --load --seq 0 --clients 0 --warmup 0
			load=
		fi
		continue ;;
	esac
	if [ "$run" = settled ]; then
		stop_all
		start_plumbago
		start_vm
		wait_http "http://127.0.0.1:$V_HTTP/health"
	fi
	echo "$run: load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
	"$PLUMBAGO" loadtest --scenario query-vs --servers "$SERVERS" --series "$SERIES" $load --label "$run" \
		--seq "$SEQ" --clients "$CLIENTS" --duration "$DURATION" --json "$OUT/$run.json" | tee "$OUT/$run.md"
	echo "$run: load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
	load=
done
