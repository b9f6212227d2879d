#!/usr/bin/env bash
# Older side-by-side benchmark (not held to the record's equal settings, so its
# figures are not comparisons: docs/benchmarks.md has the record): W1 against
# Debian's carbon-cache and Plumbago (whisper and pebble backends), then the
# statsd scenarios against etsy statsd (npm) and Plumbago, all on this machine
# in one run, loader on the same box.
#
# usage: loadtest/scripts/bench.sh OUTDIR
#   env: PLUMBAGO   plumbago binary (default: built from this checkout)
#        LOADTEST   load generator command (default: "$PLUMBAGO loadtest")
#        STATSD_DIR dir where `npm install statsd` ran (default: skip etsy statsd)
#        RATES      statsd line rates to try (default: "20000 50000 100000 0"; 0 = flat out)
#        STATSD_POINTS rounds of the statsd scenarios' 10,000 keys (default 20)
#        W1_SCENARIOS  carbon workloads (default "W1"; also "W1-pickle")
#        W1_EXISTING   1 = run each carbon workload a second time against the same server
#                      and files ("...-existing" rows: updates to existing series)
#        SKIP       space-separated steps to skip: carbon whisper pebble etsy plumbago-statsd
set -euo pipefail

OUT=${1:?usage: bench.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/plumbago-bench.XXXXXX)
RATES=${RATES:-"20000 50000 100000 0"}
STATSD_POINTS=${STATSD_POINTS:-20} # rounds of the 10,000 keys: 200,000 lines per run
SKIP=${SKIP:-}
W1_SCENARIOS=${W1_SCENARIOS:-W1}
W1_EXISTING=${W1_EXISTING:-0}
passes() { if [ "$W1_EXISTING" = 1 ]; then echo "new existing"; else echo new; fi; }
suffix() { [ "$1" = existing ] && echo "-existing" || true; }
port_for() { case $1 in *pickle*) echo "$3" ;; *) echo "$2" ;; esac; } # scenario line-port pickle-port
lower() { echo "$1" | tr 'A-Z' 'a-z'; }
skip() { case " $SKIP " in *" $1 "*) return 0 ;; esac; return 1; }

if [ -z "${PLUMBAGO:-}" ]; then
	PLUMBAGO=$WORK/plumbago
	"$ROOT/scripts/build-plumbago.sh" "$PLUMBAGO"
fi
LOADTEST=${LOADTEST:-"$PLUMBAGO loadtest"}

# W1's schema: 1s:15m,1m:1d, average, xFilesFactor 0.
printf '[carbon]\npattern = ^carbon\\.\nretentions = 10s:1d\n\n[w1]\npattern = .*\nretentions = 1s:15m,1m:1d\n' >"$WORK/schemas.conf"
printf '[default]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n' >"$WORK/aggregation.conf"

{
	echo "date: $(date -u +%FT%TZ)"
	echo "plumbago: $("$PLUMBAGO" version 2>/dev/null || echo "?") (checkout $(cd "$ROOT" && git rev-parse --short HEAD))"
	echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "kernel: $(uname -r)"
	echo "disk: $(df -hT "$WORK" | awk 'NR==2 {print $2 " on " $1}')"
	echo "carbon: $(dpkg-query -W -f '${Version}' graphite-carbon 2>/dev/null || echo missing)"
	if [ -n "${STATSD_DIR:-}" ]; then echo "etsy statsd: $(node -p "require('$STATSD_DIR/node_modules/statsd/package.json').version") on node $(node --version)"; fi
	echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt"

wait_port() { # host port
	for _ in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "port $1:$2 never opened" >&2
	return 1
}

stop() { # pid
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# --- carbon-cache ---------------------------------------------------------
if ! skip carbon; then
	C=$WORK/carbon
	mkdir -p "$C/conf" "$C/log" "$C/run"
	cat >"$C/conf/carbon.conf" <<EOF
[cache]
STORAGE_DIR = $C/storage
LOCAL_DATA_DIR = $C/storage/whisper
WHITELISTS_DIR = $C/storage/lists
CONF_DIR = $C/conf
LOG_DIR = $C/log
PID_DIR = $C/run
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = 42003
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = 42004
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = 42002
CARBON_METRIC_INTERVAL = 10
LOG_UPDATES = False
LOG_CREATES = False
LOG_LISTENER_CONNECTIONS = False
ENABLE_TAGS = False
EOF
	cp "$WORK/schemas.conf" "$C/conf/storage-schemas.conf"
	cp "$WORK/aggregation.conf" "$C/conf/storage-aggregation.conf"
	for sc in $W1_SCENARIOS; do
		n=$(lower "$sc")-carbon-cache
		carbon-cache --config="$C/conf/carbon.conf" --nodaemon start >"$C/log/console.log" 2>&1 &
		CPID=$!
		wait_port 127.0.0.1 42003
		for pass in $(passes); do
			m=$n$(suffix "$pass")
			# Existing files already hold the first pass's points: count only at the end of pass 1.
			verify=(--verify-whisper "$C/storage/whisper")
			[ "$pass" = existing ] && verify=()
			$LOADTEST --scenario "$sc" --addr "127.0.0.1:$(port_for "$sc" 42003 42004)" --carbon-whisper "$C/storage/whisper" \
				"${verify[@]}" --server-pid "$CPID" --server-data-dir "$C/storage/whisper" \
				--settle 60s --json "$OUT/$m.json" --plot "$OUT/$m.svg" | tee "$OUT/$m.txt"
			[ "$pass" = new ] && [ "$W1_EXISTING" = 1 ] && sleep 101 # next pass: the next 100 s, same files
		done
		stop "$CPID"
		echo "disk at rest: $(du -sb "$C/storage/whisper" | cut -f1) bytes" | tee -a "$OUT/$n.txt"
		rm -rf "$C/storage"
	done
fi

# --- Plumbago ---------------------------------------------------------------
serve() { # backend datadir [extra flags]
	local b=$1 d=$2
	shift 2
	"$PLUMBAGO" serve --backend "$b" --data-dir "$d" --carbon-addr 127.0.0.1:42103 --pickle-addr 127.0.0.1:42104 \
		--statsd-addr 127.0.0.1:42125 --statsd-admin-addr 127.0.0.1:42126 --carbonlink-addr 127.0.0.1:42102 \
		--protobuf-addr "" --http-addr 127.0.0.1:42180 --schemas "$WORK/schemas.conf" \
		--aggregation "$WORK/aggregation.conf" "$@" >"$OUT/serve-$b.log" 2>&1 &
	SPID=$!
	wait_port 127.0.0.1 42180
}

for sc in $W1_SCENARIOS; do
	for b in whisper pebble; do
		skip "$b" && continue
		n=$(lower "$sc")-plumbago-$b
		D=$WORK/data-$b
		serve "$b" "$D"
		extra=()
		[ "$b" = whisper ] && extra=(--verify-whisper "$D/whisper")
		for pass in $(passes); do
			m=$n$(suffix "$pass")
			[ "$pass" = existing ] && extra=()
			$LOADTEST --scenario "$sc" --addr "127.0.0.1:$(port_for "$sc" 42103 42104)" --plumbago http://127.0.0.1:42180 \
				--server-pid "$SPID" --server-data-dir "$D" "${extra[@]}" --interval 250ms \
				--json "$OUT/$m.json" --plot "$OUT/$m.svg" | tee "$OUT/$m.txt"
			[ "$pass" = new ] && [ "$W1_EXISTING" = 1 ] && sleep 101
		done
		stop "$SPID"
		echo "disk at rest: $(du -sb "$D" | cut -f1) bytes" | tee -a "$OUT/$n.txt"
		rm -rf "$D"
	done
done

# --- statsd -----------------------------------------------------------------
statsd_runs() { # label addr committed-spec pid
	for sc in statsd-1 statsd-20; do
		for r in $RATES; do
			$LOADTEST --scenario "$sc" --addr "$2" --committed "$3" --server-pid "$4" --rate "$r" --settle 5s --quiet \
				--points "$STATSD_POINTS" --json "$OUT/$sc-$1-r$r.json" >"$OUT/$sc-$1-r$r.txt" 2>&1 ||
				echo "$sc $1 rate $r failed: $(tail -1 "$OUT/$sc-$1-r$r.txt")"
		done
	done
}

if [ -n "${STATSD_DIR:-}" ] && ! skip etsy; then
	cat >"$WORK/statsd.js" <<EOF
{ port: 42225, address: "127.0.0.1", mgmt_port: 42226, mgmt_address: "127.0.0.1",
  graphiteHost: "127.0.0.1", graphitePort: 42203, flushInterval: 1000, backends: ["./backends/graphite"] }
EOF
	(cd "$STATSD_DIR/node_modules/statsd" && exec node stats.js "$WORK/statsd.js") >"$OUT/etsy-statsd.log" 2>&1 &
	EPID=$!
	wait_port 127.0.0.1 42226
	# The loader itself is the graphite backend's target and sums statsd.metrics_received.
	statsd_runs etsy 127.0.0.1:42225 'sink:127.0.0.1:42203#stats_counts.statsd.metrics_received' "$EPID"
	stop "$EPID"
fi

if ! skip plumbago-statsd; then
	D=$WORK/data-statsd
	serve pebble "$D" --statsd-flush-interval 1s
	# Plumbago stores its statsd self-counters like etsy's graphite backend would.
	statsd_runs plumbago 127.0.0.1:42125 'render:http://127.0.0.1:42180/render#stats_counts.statsd.metrics_received' "$SPID"
	stop "$SPID"
	rm -rf "$D"
fi

cd "$OUT"
ls w1-*.json >/dev/null 2>&1 && $LOADTEST --compare "$(ls w1-*.json | paste -sd,)" --plot w1-compare.svg | tee w1-compare.md
ls statsd-*.json >/dev/null 2>&1 && $LOADTEST --compare "$(ls statsd-*.json | paste -sd,)" | tee statsd-compare.md
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a machine.txt
rm -rf "$WORK"
