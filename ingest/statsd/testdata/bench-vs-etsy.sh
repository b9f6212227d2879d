#!/bin/sh
# Side-by-side UDP loss test: Plumbago's statsd and etsy statsd (npm
# "statsd") on loopback, one metric per datagram and 20 per datagram, at a
# ladder of offered rates. For each run the load generator reports the lines
# sent and the lines the server counted (statsd.metrics_received), i.e. loss.
#
# Both servers flush every 10 s (etsy's default), so each run waits for the
# counts to settle for 13 s after the last datagram.
#
# Usage: ingest/statsd/testdata/bench-vs-etsy.sh [seconds-per-run]
# Needs node; installs etsy statsd with install-etsy-statsd.sh.
set -eu
cd "$(dirname "$0")/../../.."
secs="${1:-10}"
work="$(mktemp -d)"
COLLECTD_PID=
trap 'kill $PLUMBAGO_PID $ETSY_PID $COLLECTD_PID 2>/dev/null || true; rm -rf "$work"' EXIT

etsy_dir="${ETSY_STATSD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/plumbago/etsy-statsd}"
sh ingest/statsd/testdata/install-etsy-statsd.sh "$etsy_dir" >/dev/null
go build -o "$work/plumbago" ./cmd/plumbago
go build -o "$work/loadtest" ./ingest/statsd/testdata/loadtest

"$work/plumbago" serve --data-dir "$work/data" --http-addr 127.0.0.1:18080 --carbon-addr "" --pickle-addr "" \
	--carbonlink-addr "" --statsd-addr 127.0.0.1:18125 --statsd-admin-addr 127.0.0.1:18126 \
	--statsd-flush-interval 10s --log-level warn ${PLUMBAGO_FLAGS:-} >"$work/plumbago.log" 2>&1 &
PLUMBAGO_PID=$!
cat >"$work/etsy.js" <<JS
{ port: 28125, address: "127.0.0.1", mgmt_port: 28126, mgmt_address: "127.0.0.1",
  graphiteHost: "127.0.0.1", graphitePort: 22003, flushInterval: 10000, backends: ["./backends/graphite"] }
JS
(cd "$etsy_dir/node_modules/statsd" && exec node stats.js "$work/etsy.js" >"$work/etsy.log" 2>&1) &
ETSY_PID=$!
# COLLECTD_RATES_1 / COLLECTD_RATES_20 add a third server: collectd's statsd
# plugin (C, one receive thread; Debian package collectd-core), 10 s interval.
# It has no received-lines counter, so its loss is the kernel's drop count
# (the loader's "kernel UDP drops", machine-wide: run on a quiet box).
if [ -n "${COLLECTD_RATES_1:-}${COLLECTD_RATES_20:-}" ]; then
	[ -x /usr/sbin/collectd ] || { echo "collectd-core is not installed (apt-get install collectd-core)" >&2; exit 1; }
	cat >"$work/collectd.conf" <<CONF
Hostname "bench"
FQDNLookup false
Interval 10
BaseDir "$work"
PIDFile "$work/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin statsd
<Plugin statsd>
  Host "127.0.0.1"
  Port "38125"
  DeleteSets true
  TimerPercentile 90
</Plugin>
CONF
	/usr/sbin/collectd -C "$work/collectd.conf" -f >"$work/collectd.log" 2>&1 &
	COLLECTD_PID=$!
fi
sleep 3

run() { # name addr per-datagram rate counter
	if [ "$5" = kernel ]; then
		out=$("$work/loadtest" --scenario statsd-1 --per-datagram "$3" --addr "$2" --rate "$4" --duration "${secs}s" --quiet 2>&1)
		sleep 12 # the next run starts after a flush, as for the others
	else
		out=$("$work/loadtest" --scenario statsd-1 --per-datagram "$3" --addr "$2" --rate "$4" --duration "${secs}s" \
			--committed "$5" --settle 13s --wait 60s --quiet 2>&1)
	fi
	sent=$(echo "$out" | awk '/points sent/ {print $3}')
	rate=$(echo "$out" | awk '/send time/ {gsub(/\(/, "", $4); print $4}')
	pct=$(echo "$out" | awk '/^  lost/ {gsub(/[()%]/, "", $3); print $3}')
	if [ "$5" = kernel ]; then
		pct=$(echo "$out" | awk -v per="$3" -v sent="$sent" '/kernel UDP drops/ {printf "%.4f", 100 * $4 * per / sent}')
	fi
	if [ -z "$pct" ] && echo "$out" | grep -q "all points"; then pct=0; fi
	printf '| %-8s | %2s | %9s | %9s | %9s | %8s%% |\n' "$1" "$3" "$4" "$rate" "$sent" "${pct:-?}"
}

echo "| server   | per datagram | offered metrics/s | achieved send | lines sent | loss |"
echo "|---|---|---|---|---|---|"
pl="prom:http://127.0.0.1:18080/metrics#plumbago_statsd_metrics_total"
et="sink:127.0.0.1:22003#stats_counts.statsd.metrics_received"
# PER_DATAGRAM=1 or 20 runs only that shape; ETSY_RATES_1 / PLUMBAGO_RATES_1
# and ETSY_RATES_20 / PLUMBAGO_RATES_20 replace the rate ladders (" " skips a
# side); PLUMBAGO_FLAGS adds flags to plumbago serve (e.g.
# "--socket-recv-buffer 4MiB" for a buffer no larger than rmem_max allows
# without CAP_NET_ADMIN).
if [ "${PER_DATAGRAM:-1}" = 1 ]; then
	for r in ${ETSY_RATES_1:-2500 5000 10000 20000}; do run etsy 127.0.0.1:28125 1 $r "$et"; done
	for r in ${PLUMBAGO_RATES_1:-50000 100000 200000 300000}; do run plumbago 127.0.0.1:18125 1 $r "$pl"; done
	for r in ${COLLECTD_RATES_1:-}; do run collectd 127.0.0.1:38125 1 $r kernel; done
fi
if [ "${PER_DATAGRAM:-20}" = 20 ]; then
	for r in ${ETSY_RATES_20:-10000 25000 50000 100000}; do run etsy 127.0.0.1:28125 20 $r "$et"; done
	for r in ${PLUMBAGO_RATES_20:-500000 1000000 2000000 3000000}; do run plumbago 127.0.0.1:18125 20 $r "$pl"; done
	for r in ${COLLECTD_RATES_20:-}; do run collectd 127.0.0.1:38125 20 $r kernel; done
fi
