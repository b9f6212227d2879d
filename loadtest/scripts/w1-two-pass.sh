#!/usr/bin/env bash
# W1's two passes on one fresh pebble server, Plumbago alone: 100,000 new
# series × 100 points, then the same again into the existing series 101 s
# after the first pass started (so that it lands in new slots), as
# scripts/bench-record.sh times them; vm-compare.sh's RUNS=w1 runs only the
# first pass. The server runs on its defaults, with the record's schema.
#
# usage: loadtest/scripts/w1-two-pass.sh BIN OUTDIR
#   BIN     a plumbago binary (scripts/build-plumbago.sh BIN builds it as it ships)
#   OUTDIR  gets new.txt/new.json, existing.txt/existing.json (the loader's
#           reports: all-in time, server CPU, peak RSS), NAME.load (the load
#           average before each pass) and serve.log
set -euo pipefail
BIN=${1:?usage: w1-two-pass.sh BIN OUTDIR}
OUT=${2:?usage: w1-two-pass.sh BIN OUTDIR}
mkdir -p "$OUT"
WORK=$(mktemp -d)
SPID=
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
printf '[w1]\npattern = .*\nretentions = 1s:15m,1m:1d\n' >"$WORK/schemas.conf"
printf '[default]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n' >"$WORK/aggregation.conf"
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
C=$(freeport) H=$(freeport)
"$BIN" serve --backend pebble --data-dir "$WORK/data" --carbon-addr "127.0.0.1:$C" --carbon-udp-addr off \
	--pickle-addr "" --statsd-addr "" --statsd-admin-addr "" --carbonlink-addr "" --protobuf-addr "" \
	--http-addr "127.0.0.1:$H" --schemas "$WORK/schemas.conf" --aggregation "$WORK/aggregation.conf" >"$OUT/serve.log" 2>&1 &
SPID=$!
for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$H") 2>/dev/null && break; sleep 0.1; done
started=
for pass in new existing; do
	if [ "$pass" = existing ]; then
		left=$((started + 101 - $(date +%s)))
		if [ "$left" -gt 0 ]; then
			echo "w1-two-pass: the existing pass starts in ${left}s"
			sleep "$left"
		fi
	fi
	echo "load $(cut -d' ' -f1-3 /proc/loadavg)" >"$OUT/$pass.load"
	echo "w1-two-pass: $pass pass"
	"$BIN" loadtest --scenario W1 --addr "127.0.0.1:$C" --plumbago "http://127.0.0.1:$H" --interval 250ms \
		--server-pid "$SPID" --quiet --json "$OUT/$pass.json" >"$OUT/$pass.txt" 2>&1
	if [ "$pass" = new ]; then
		started=$(date -d "$(jq -r '.started' "$OUT/new.json")" +%s)
	fi
	grep -E 'all points committed|server cpu|server rss' "$OUT/$pass.txt" || true
done
