#!/usr/bin/env bash
# The benchmark record (issue #18 item 4): every side-by-side comparison of
# docs/benchmarks.md in one run, on this machine, with the loader on the same
# box, and one markdown table (record.md) plus PNG plots written from it.
#
#   carbon ingest  W1 (100,000 new series x 100 points, then the same again
#                  into the existing series) and 1,000,000 series x 20 points,
#                  plaintext over 4 TCP connections, against VictoriaMetrics
#                  (v1.151.0 from the Go module proxy) and Debian's
#                  carbon-cache, same schema, same durability window where the
#                  peer has one (stated in record.md), same socket rules.
#   bytes/point    issue 19's noisy two-decimal gauges (10,000 x 2,160 at
#                  10 s, internal/realdata via `plumbago loadtest --data
#                  gauges`) into Plumbago (pebble) and VictoriaMetrics, the
#                  data's entropy beside the bytes per point.
#   queries        issue 18's query set against VictoriaMetrics
#                  (loadtest/scripts/bench-query-vs-vm.sh and the query-vs
#                  scenario, when the checkout has them).
#   statsd         1 and 20 metrics per datagram against etsy statsd (npm) and
#                  collectd's statsd plugin (Debian collectd-core), every
#                  server on the OS default UDP receive buffer, loss counted
#                  exactly (server counters and the sockets' own drop counts),
#                  the loader's CPU measured.
#
# usage: scripts/bench-record.sh [--quick|--full] [--out DIR] [--only LIST]
#                                [--skip LIST] [--carbon-1m] [--dry-run]
#   --quick      small sizes and one rate per statsd server: a smoke run of a
#                few minutes (figures not for the record)
#   --full       the record's sizes (default; about 45 minutes on 2 cores)
#   --out DIR    results directory (default bench-record-YYYYmmdd-HHMMSS)
#   --only LIST  comma-separated sections: ingest,bytes,query,statsd
#   --skip LIST  comma-separated sections or targets to leave out:
#                carbon-cache,victoriametrics,plumbago-pebble,plumbago-whisper,
#                etsy,collectd,plumbago-statsd
#   --carbon-1m  also run carbon-cache on 1 M series x 20 points (1,000,000
#                whisper files of 28 KB preallocated: 28 GB of disk)
#   --dry-run    print the steps and exit
# env: PLUMBAGO (binary; default built from this checkout), VICTORIA_METRICS
#      (binary; default the cache below, built with go install if missing),
#      ETSY_STATSD_DIR, BENCH_PORT_BASE (default 26100), BENCH_CACHE;
#      RATES_1_etsy, RATES_1_collectd, RATES_1_plumbago, RATES_20_... replace
#      the statsd ladders (offered metrics/s, 0 = flat out).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=full OUT= ONLY= SKIP= CARBON_1M=0 DRY=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) MODE=quick ;;
	--full) MODE=full ;;
	--out) OUT=${2:?--out needs a directory}; shift ;;
	--out=*) OUT=${1#--out=} ;;
	--only) ONLY=${2:?--only needs a list}; shift ;;
	--only=*) ONLY=${1#--only=} ;;
	--skip) SKIP=${2:?--skip needs a list}; shift ;;
	--skip=*) SKIP=${1#--skip=} ;;
	--carbon-1m) CARBON_1M=1 ;;
	--dry-run) DRY=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-record: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
for s in ${ONLY//,/ }; do
	case $s in ingest | bytes | query | statsd) ;; *) echo "bench-record: unknown section $s in --only" >&2; exit 2 ;; esac
done
for s in ${SKIP//,/ }; do
	case $s in ingest | bytes | query | statsd | carbon-cache | victoriametrics | plumbago-pebble | plumbago-whisper | etsy | collectd | plumbago-statsd) ;;
	*) echo "bench-record: unknown name $s in --skip" >&2; exit 2 ;;
	esac
done
want() { # section-or-target: not skipped, and in --only when that is given (targets: --only names sections)
	case ",$SKIP," in *",$1,"*) return 1 ;; esac
	case $1 in ingest | bytes | query | statsd) [ -z "$ONLY" ] || case ",$ONLY," in *",$1,"*) ;; *) return 1 ;; esac ;; esac
	return 0
}

# --- sizes ------------------------------------------------------------------
if [ "$MODE" = quick ]; then
	W1_METRICS=10000 W1_POINTS=20 M1_METRICS=50000 M1_POINTS=20 BYTES_METRICS=1000 BYTES_POINTS=360
	STATSD_SECS=3
	R1E="20000" R1C="100000" R1P="200000 0"
	R20E="200000" R20C="1000000" R20P="2000000 0"
	QUERY_ENV=(SERIES=6000 SEQ=5 CLIENTS=8 DURATION=2s)
else
	W1_METRICS=100000 W1_POINTS=100 M1_METRICS=1000000 M1_POINTS=20 BYTES_METRICS=10000 BYTES_POINTS=2160
	STATSD_SECS=10
	# Ladders from well below each server's loss-free rate on a quiet box to past it; 0 = flat out.
	R1E="5000 10000 20000 40000 60000" R1C="25000 50000 100000 200000 300000"
	R1P="50000 100000 200000 400000 600000 0"
	R20E="50000 100000 200000 400000" R20C="250000 500000 1000000 2000000"
	R20P="500000 1000000 2000000 4000000 0"
	QUERY_ENV=(SERIES=100000 SEQ=30 CLIENTS=8 DURATION=10s)
fi

# The ladders can be replaced from the environment (" " skips a server).
RATES_1_etsy=${RATES_1_etsy:-$R1E} RATES_1_collectd=${RATES_1_collectd:-$R1C} RATES_1_plumbago=${RATES_1_plumbago:-$R1P}
RATES_20_etsy=${RATES_20_etsy:-$R20E} RATES_20_collectd=${RATES_20_collectd:-$R20C} RATES_20_plumbago=${RATES_20_plumbago:-$R20P}

# --- steps --------------------------------------------------------------------
STEPS=()
if want ingest; then
	for t in carbon-cache victoriametrics plumbago-pebble plumbago-whisper; do want "$t" && STEPS+=("ingest W1 $t"); done
	for t in carbon-cache victoriametrics plumbago-pebble; do
		[ "$t" = carbon-cache ] && [ "$CARBON_1M" = 0 ] && continue
		want "$t" && STEPS+=("ingest 1M $t")
	done
fi
want bytes && STEPS+=("bytes noisy")
want query && want victoriametrics && STEPS+=("query vs-victoriametrics")
if want statsd; then
	for per in 1 20; do
		for s in etsy collectd plumbago; do
			t=$s
			[ "$s" = plumbago ] && t=plumbago-statsd
			want "$t" || continue
			v=RATES_${per}_$s
			for r in ${!v}; do STEPS+=("statsd $per $s $r"); done
		done
	done
fi
STEPS+=("report")

if [ "$DRY" = 1 ]; then
	echo "bench-record: mode $MODE, ${#STEPS[@]} steps"
	i=0
	for s in "${STEPS[@]}"; do i=$((i + 1)); echo "  $i/${#STEPS[@]} $s"; done
	exit 0
fi

[ -n "$OUT" ] || OUT=bench-record-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/bench-record.XXXXXX)
CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/plumbago}
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
T0=$(date +%s)
log() { printf '[%s +%4ds load %s] %s\n' "$(date -u +%T)" $(($(date +%s) - T0)) "$(cut -d' ' -f1 /proc/loadavg)" "$*" | tee -a "$OUT/progress.log" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# cmd NAME ARGS...: runs and records the exact command and the load average around it.
cmd() {
	local name=$1
	shift
	local before
	before=$(loadavg)
	printf '%s\t%s\t%s\n' "$name" "$before" "$(printf '%q ' "$@")" >>"$OUT/commands.tsv"
	"$@"
	printf '%s\tafter\t%s\n' "$name" "$(loadavg)" >>"$OUT/commands.tsv"
}

# server NAME ARGS...: records a server's command line beside the loader's.
server() {
	local name=$1
	shift
	printf 'server %s\t%s\t%s\n' "$name" "$(loadavg)" "$(printf '%q ' "$@")" >>"$OUT/commands.tsv"
}

# --- tools ---------------------------------------------------------------------
need_apt() { # command package
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] && return 0
	log "installing $2 (apt)"
	local sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y -qq "$2" >/dev/null 2>&1 || { $sudo apt-get update -qq && $sudo apt-get install -y -qq "$2" >/dev/null; }
}
need_apt jq jq
if [ -z "${PLUMBAGO:-}" ]; then
	log "building plumbago from $ROOT"
	PLUMBAGO=$WORK/plumbago
	(cd "$ROOT" && go build -o "$PLUMBAGO" ./cmd/plumbago)
fi
LOADTEST=("$PLUMBAGO" loadtest)
VM_VERSION=v1.151.0
if [ -z "${VICTORIA_METRICS:-}" ]; then
	VICTORIA_METRICS=$CACHE/victoria-metrics-$VM_VERSION/victoria-metrics
	if [ ! -x "$VICTORIA_METRICS" ] && { want ingest || want query; }; then
		log "building VictoriaMetrics $VM_VERSION into $(dirname "$VICTORIA_METRICS") (go install, a few minutes)"
		mkdir -p "$(dirname "$VICTORIA_METRICS")"
		GOBIN=$(dirname "$VICTORIA_METRICS") GOFLAGS=-mod=mod go install "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@$VM_VERSION"
	fi
fi
ETSY_STATSD_DIR=${ETSY_STATSD_DIR:-$CACHE/etsy-statsd}
if want statsd; then
	want etsy && sh "$ROOT/ingest/statsd/testdata/install-etsy-statsd.sh" "$ETSY_STATSD_DIR" >/dev/null
	want collectd && need_apt collectd collectd-core
fi

# --- ports ---------------------------------------------------------------------
# Below the ephemeral range (net.ipv4.ip_local_port_range 32768-60999), where no client socket lands.
BASE=${BENCH_PORT_BASE:-26100}
P_CARBON=$((BASE + 3)) P_CARBON_PICKLE=$((BASE + 4)) P_CARBON_CACHEQ=$((BASE + 2))
P_VM_HTTP=$((BASE + 28)) P_VM_GRAPHITE=$((BASE + 13))
P_PL_HTTP=$((BASE + 80)) P_PL_CARBON=$((BASE + 23)) P_PL_PICKLE=$((BASE + 24)) P_PL_STATSD=$((BASE + 25))
P_PL_ADMIN=$((BASE + 26)) P_PL_LINK=$((BASE + 22))
P_ETSY=$((BASE + 35)) P_ETSY_MGMT=$((BASE + 36)) P_ETSY_SINK=$((BASE + 37)) P_COLLECTD=$((BASE + 45))
for p in $P_CARBON $P_CARBON_PICKLE $P_CARBON_CACHEQ $P_VM_HTTP $P_VM_GRAPHITE $P_PL_HTTP $P_PL_CARBON $P_PL_PICKLE \
	$P_PL_STATSD $P_PL_ADMIN $P_PL_LINK $P_ETSY $P_ETSY_MGMT $P_ETSY_SINK $P_COLLECTD; do
	if ss -Htuln "sport = :$p" | grep -q .; then echo "bench-record: port $p is in use; set BENCH_PORT_BASE" >&2; exit 1; fi
done

wait_tcp() { # port
	for _ in $(seq 1 600); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	log "port $1 never opened"
	return 1
}
wait_udp() { # port
	for _ in $(seq 1 600); do
		ss -Huln "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	log "UDP port $1 never opened"
	return 1
}
stop() { # pid
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# --- machine -----------------------------------------------------------------------
{
	echo "date: $(date -u +%FT%TZ)"
	echo "mode: $MODE"
	echo "plumbago: $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo ' (dirty)')"
	echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "kernel: $(uname -r)"
	echo "disk: $(df -hT "$WORK" | awk 'NR==2 {print $2 " on " $1}')"
	echo "go: $(go version | cut -d' ' -f3)"
	[ -x "$VICTORIA_METRICS" ] && echo "victoriametrics: $(go version -m "$VICTORIA_METRICS" | awk '$1 == "mod" {print $3}') ($VICTORIA_METRICS)"
	echo "carbon-cache: graphite-carbon $(dpkg-query -W -f '${Version}' graphite-carbon 2>/dev/null || echo missing)"
	echo "collectd: $(dpkg-query -W -f '${Version}' collectd-core 2>/dev/null || echo missing)"
	[ -f "$ETSY_STATSD_DIR/node_modules/statsd/package.json" ] &&
		echo "etsy statsd: $(node -p "require('$ETSY_STATSD_DIR/node_modules/statsd/package.json').version") on node $(node --version)"
	for k in net.core.rmem_default net.core.rmem_max net.ipv4.tcp_rmem net.core.netdev_max_backlog; do echo "$k: $(sysctl -n $k | tr '\t' ' ')"; done
	echo "load average at start: $(loadavg)"
} >"$OUT/machine.new"
if [ -f "$OUT/machine.txt" ]; then
	# Steps added to an earlier run's directory (--only): its header stays, this run's is noted.
	echo "added $(sed -n 's/^date: //p' "$OUT/machine.new") ($MODE, --only ${ONLY:-all}): plumbago $(sed -n 's/^plumbago: //p' "$OUT/machine.new"), load average at start $(loadavg)" >>"$OUT/machine.txt"
	rm "$OUT/machine.new"
else
	mv "$OUT/machine.new" "$OUT/machine.txt"
fi
cat "$OUT/machine.txt" >&2

# Same schema for every carbon target: W1's 1s:15m,1m:1d, average, xFilesFactor 0.
printf '[carbon]\npattern = ^carbon\\.\nretentions = 10s:1d\n\n[w1]\npattern = .*\nretentions = 1s:15m,1m:1d\n' >"$WORK/schemas.conf"
printf '[default]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n' >"$WORK/aggregation.conf"
mkdir -p "$OUT/conf" # every server's configuration file, as used
cp "$WORK/schemas.conf" "$WORK/aggregation.conf" "$OUT/conf/"

# --- servers ---------------------------------------------------------------------------
# Every server: fresh data directory, loopback ports, its process id in SPID.
start_carbon_cache() { # dir
	local C=$1
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
LINE_RECEIVER_PORT = $P_CARBON
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = $P_CARBON_PICKLE
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = $P_CARBON_CACHEQ
CARBON_METRIC_INTERVAL = 10
WHISPER_AUTOFLUSH = False
LOG_UPDATES = False
LOG_CREATES = False
LOG_LISTENER_CONNECTIONS = False
ENABLE_TAGS = False
EOF
	cp "$WORK/schemas.conf" "$C/conf/storage-schemas.conf"
	cp "$WORK/aggregation.conf" "$C/conf/storage-aggregation.conf"
	cp "$C/conf/carbon.conf" "$OUT/conf/"
	server carbon-cache carbon-cache --config="$C/conf/carbon.conf" --nodaemon start
	carbon-cache --config="$C/conf/carbon.conf" --nodaemon start >"$C/log/console.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	wait_tcp "$P_CARBON"
}
start_vm() { # dir
	# -inmemoryDataFlushInterval 1s: the same crash window as Plumbago's --sync-interval 1s
	# (1 s is VictoriaMetrics' minimum). -retentionPeriod 1d: the schema's longest retention.
	local args=(-storageDataPath "$1" -retentionPeriod 1d -inmemoryDataFlushInterval 1s
		-httpListenAddr "127.0.0.1:$P_VM_HTTP" -graphiteListenAddr "127.0.0.1:$P_VM_GRAPHITE" -loggerLevel WARN)
	server victoriametrics victoria-metrics "${args[@]}"
	"$VICTORIA_METRICS" "${args[@]}" >>"$OUT/serve-victoriametrics.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	wait_tcp "$P_VM_HTTP"
	wait_tcp "$P_VM_GRAPHITE"
}
start_plumbago() { # backend dir [flags]
	local b=$1 d=$2
	shift 2
	local args=(serve --backend "$b" --data-dir "$d" --sync-interval 1s
		--carbon-addr "127.0.0.1:$P_PL_CARBON" --pickle-addr "127.0.0.1:$P_PL_PICKLE"
		--statsd-addr "127.0.0.1:$P_PL_STATSD" --statsd-admin-addr "127.0.0.1:$P_PL_ADMIN"
		--carbonlink-addr "127.0.0.1:$P_PL_LINK" --protobuf-addr "" --http-addr "127.0.0.1:$P_PL_HTTP"
		--schemas "${SCHEMAS:-$WORK/schemas.conf}" --aggregation "$WORK/aggregation.conf" --log-level warn "$@")
	server "plumbago-$b" plumbago "${args[@]}"
	"$PLUMBAGO" "${args[@]}" >>"$OUT/serve-plumbago-$b.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	wait_tcp "$P_PL_HTTP"
}

# --- carbon ingest ----------------------------------------------------------------------
# ingest WORKLOAD TARGET: a fresh server, the workload (W1: then the same
# series again after its points' time span, "existing"), stop, disk at rest.
ingest() {
	local wl=$1 t=$2 metrics points prefix passes d
	if [ "$wl" = W1 ]; then
		metrics=$W1_METRICS points=$W1_POINTS prefix=loadtest.w1 passes="new existing"
	else
		metrics=$M1_METRICS points=$M1_POINTS prefix=loadtest.m1 passes=new
	fi
	d=$WORK/data-$t
	rm -rf "$d"
	mkdir -p "$d"
	local addr extra=() datadir=$d
	case $t in
	carbon-cache)
		start_carbon_cache "$d"
		addr=127.0.0.1:$P_CARBON datadir=$d/storage/whisper
		# carbon-cache writes its own committedPoints only when its writer reaches
		# them (after the biggest series, CACHE_WRITE_STRATEGY sorted): on a loaded
		# box the count stays 0 for minutes, so wait long for it to move.
		extra=(--carbon-whisper "$d/storage/whisper" --settle 600s --wait 60m)
		;;
	victoriametrics)
		start_vm "$d"
		addr=127.0.0.1:$P_VM_GRAPHITE
		extra=(--committed "prom:http://127.0.0.1:$P_VM_HTTP/metrics#vm_rows_added_to_storage_total"
			--received "prom:http://127.0.0.1:$P_VM_HTTP/metrics#vm_rows_inserted_total" --interval 250ms)
		;;
	plumbago-pebble | plumbago-whisper)
		start_plumbago "${t#plumbago-}" "$d"
		addr=127.0.0.1:$P_PL_CARBON
		extra=(--plumbago "http://127.0.0.1:$P_PL_HTTP" --interval 250ms)
		;;
	esac
	for pass in $passes; do
		local name=$wl-$pass-$t verify=()
		if [ "$pass" = new ]; then
			case $t in carbon-cache) verify=(--verify-whisper "$d/storage/whisper") ;; plumbago-whisper) verify=(--verify-whisper "$d/whisper") ;; esac
		else
			# The same series one time span later: new slots in existing series.
			log "  waiting $((points + 1)) s so that the existing-series pass lands in new slots"
			sleep $((points + 1))
		fi
		log "  $name: $metrics series x $points points"
		cmd "$name" "${LOADTEST[@]}" --scenario W1 --metrics "$metrics" --points "$points" --prefix "$prefix" \
			--addr "$addr" --server-pid "$SPID" --server-data-dir "$datadir" "${extra[@]}" "${verify[@]}" \
			--json "$OUT/$name.json" 2>&1 | tee "$OUT/$name.txt" >&2
	done
	stop "$SPID"
	local rest
	rest=$(du -sb "$d" | cut -f1)
	echo "$rest" >"$OUT/$wl-$t.disk"
	log "  $t stopped; data at rest $rest bytes"
	rm -rf "$d"
}

# --- statsd ---------------------------------------------------------------------------------
# udp_drops PORT: the receive-buffer drops of every UDP socket bound to PORT
# (/proc/net/udp's last column): what the kernel dropped for that server.
udp_drops() {
	awk -v p="$(printf ':%04X' "$1")" 'NR > 1 && substr($2, length($2) - 4) == p {s += $NF} END {print s + 0}' /proc/net/udp
}
# softnet_drops: packets the kernel's per-CPU backlog dropped (machine-wide).
softnet_drops() {
	local s=0 _a b _rest
	while read -r _a b _rest; do s=$((s + 16#$b)); done </proc/net/softnet_stat
	echo "$s"
}
STATSD_SERVER=
statsd_server() { # etsy|collectd|plumbago: (re)start it unless it is the one running
	[ "$STATSD_SERVER" = "$1" ] && return 0
	[ -n "$STATSD_SERVER" ] && stop "$SPID"
	STATSD_SERVER=$1
	local port
	case $1 in
	etsy)
		cat >"$WORK/etsy.js" <<EOF
{ port: $P_ETSY, address: "127.0.0.1", mgmt_port: $P_ETSY_MGMT, mgmt_address: "127.0.0.1",
  graphiteHost: "127.0.0.1", graphitePort: $P_ETSY_SINK, flushInterval: 10000, backends: ["./backends/graphite"] }
EOF
		cp "$WORK/etsy.js" "$OUT/conf/"
		server etsy node stats.js etsy.js
		(cd "$ETSY_STATSD_DIR/node_modules/statsd" && exec node stats.js "$WORK/etsy.js") >"$OUT/serve-etsy.log" 2>&1 &
		port=$P_ETSY
		;;
	collectd)
		cat >"$WORK/collectd.conf" <<EOF
Hostname "bench"
FQDNLookup false
Interval 10
BaseDir "$WORK"
PIDFile "$WORK/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin statsd
<Plugin statsd>
  Host "127.0.0.1"
  Port "$P_COLLECTD"
  DeleteSets true
  TimerPercentile 90
</Plugin>
EOF
		cp "$WORK/collectd.conf" "$OUT/conf/"
		server collectd /usr/sbin/collectd -C collectd.conf -f
		/usr/sbin/collectd -C "$WORK/collectd.conf" -f >"$OUT/serve-collectd.log" 2>&1 &
		port=$P_COLLECTD
		;;
	plumbago)
		rm -rf "$WORK/data-statsd"
		# --socket-recv-buffer 106496: Linux doubles what is asked, so the socket
		# gets 212992 bytes, net.core.rmem_default, what etsy and collectd get.
		start_plumbago pebble "$WORK/data-statsd" --statsd-flush-interval 10s --socket-recv-buffer 106496 \
			--carbon-addr "" --pickle-addr ""
		port=$P_PL_STATSD
		;;
	esac
	[ "$1" = plumbago ] || { SPID=$!; PIDS+=("$SPID"); }
	wait_udp "$port"
	sleep 1
	echo "$1: $(ss -Hulmn "sport = :$port" | grep -o 'rb[0-9]*' | sort -u | paste -sd' ') (SO_RCVBUF of its sockets on :$port)" | tee -a "$OUT/statsd-buffers.txt" >&2
}
statsd_run() { # per server rate
	local per=$1 s=$2 r=$3 port counter=() name
	statsd_server "$s"
	case $s in
	etsy) port=$P_ETSY counter=(--committed "sink:127.0.0.1:$P_ETSY_SINK#stats_counts.statsd.metrics_received" --settle 13s --wait 60s) ;;
	plumbago) port=$P_PL_STATSD counter=(--committed "prom:http://127.0.0.1:$P_PL_HTTP/metrics#plumbago_statsd_metrics_total" --settle 13s --wait 60s) ;;
	collectd) port=$P_COLLECTD ;; # no count of lines received: its socket's drops are the loss
	esac
	name=statsd-$per-$s-r$r
	local d0 s0 d1 s1
	d0=$(udp_drops "$port") s0=$(softnet_drops)
	log "  $name: ${r/#0/flat out} metrics/s offered for ${STATSD_SECS} s"
	cmd "$name" "${LOADTEST[@]}" --scenario statsd-1 --per-datagram "$per" --addr "127.0.0.1:$port" --rate "$r" \
		--duration "${STATSD_SECS}s" --server-pid "$SPID" "${counter[@]}" --quiet --json "$OUT/$name.json" >"$OUT/$name.txt" 2>&1 ||
		log "  $name failed: $(tail -1 "$OUT/$name.txt")"
	[ "$s" = collectd ] && sleep 12 # a flush between runs, as the others wait for theirs
	d1=$(udp_drops "$port") s1=$(softnet_drops)
	printf '{"socket_drops": %d, "softnet_drops": %d}\n' $((d1 - d0)) $((s1 - s0)) >"$OUT/$name.drops"
	log "  $name: $(jq -r '"sent \(.points_sent) at \(.send_rate|floor)/s, counted \(.committed), loader CPU \(.loader_cpu_seconds) s"' "$OUT/$name.json" 2>/dev/null), socket drops $((d1 - d0)) datagrams"
}

# --- bytes per point and queries ----------------------------------------------------------------
# bytes_noisy: issue 19's noisy two-decimal gauges (internal/realdata through
# `plumbago loadtest --data gauges`), the same points into VictoriaMetrics and
# Plumbago (pebble, schema 10s:12h,1m:7d: its rollup archive is stored too),
# disk measured --store-settle after the last commit and again at rest after a
# stop, the data's own entropy beside it.
bytes_noisy() {
	if ! "${LOADTEST[@]}" -h 2>&1 | grep -q -- '-store-settle'; then
		log "  TODO: this binary has no realistic data (--data gauges, --store-settle): no bytes-per-point figure"
		echo "TODO: bytes per point on noisy data needs the realistic-data scenario (not in this binary); no figure" >"$OUT/bytes-noisy.txt"
		return 0
	fi
	rm -f "$OUT/bytes-noisy.txt"
	printf '[carbon]\npattern = ^carbon\\.\nretentions = 10s:1d\n\n[noisy]\npattern = .*\nretentions = 10s:12h,1m:7d\n' >"$WORK/schemas-noisy.conf"
	cp "$WORK/schemas-noisy.conf" "$OUT/conf/"
	local t d addr extra name
	for t in victoriametrics plumbago-pebble; do
		want "$t" || continue
		d=$WORK/bytes-$t
		rm -rf "$d"
		mkdir -p "$d"
		case $t in
		victoriametrics)
			start_vm "$d"
			addr=127.0.0.1:$P_VM_GRAPHITE
			extra=(--committed "prom:http://127.0.0.1:$P_VM_HTTP/metrics#vm_rows_added_to_storage_total")
			;;
		plumbago-pebble)
			SCHEMAS=$WORK/schemas-noisy.conf start_plumbago pebble "$d"
			addr=127.0.0.1:$P_PL_CARBON
			extra=(--plumbago "http://127.0.0.1:$P_PL_HTTP")
			;;
		esac
		name=bytes-noisy-$t
		log "  $name: $BYTES_METRICS noisy two-decimal gauges x $BYTES_POINTS points at 10 s"
		cmd "$name" "${LOADTEST[@]}" --scenario realistic --data gauges --decimals 2 --metrics "$BYTES_METRICS" \
			--points "$BYTES_POINTS" --step 10s --addr "$addr" --server-pid "$SPID" --server-data-dir "$d" \
			--store-settle 45s --interval 1s "${extra[@]}" --json "$OUT/$name.json" 2>&1 | tee "$OUT/$name.txt" >&2
		stop "$SPID"
		du -sb "$d" | cut -f1 >"$OUT/$name.disk"
		log "  $t stopped; data at rest $(cat "$OUT/$name.disk") bytes"
		rm -rf "$d"
	done
}
query_vs() {
	# The query helper's harness: loadtest/scripts/bench-query-vs-vm.sh (the
	# query-vs scenario, VictoriaMetrics and Plumbago loaded with the same
	# points, caches off on both, fresh and settled runs).
	local qs=$ROOT/loadtest/scripts/bench-query-vs-vm.sh
	if [ ! -x "$qs" ] || ! "${LOADTEST[@]}" --scenario query-vs -h 2>&1 | grep -q -- '-servers'; then
		log "  TODO: no loadtest/scripts/bench-query-vs-vm.sh and query-vs scenario in this checkout (issue 18 item 1's harness): no query figures"
		echo "TODO: the query-vs harness is not in this checkout; no figure" >"$OUT/query.md"
		return 0
	fi
	log "  $qs with ${QUERY_ENV[*]} (loads both servers, then times the queries fresh and settled)"
	cmd query env "${QUERY_ENV[@]}" PLUMBAGO="$PLUMBAGO" VM="$VICTORIA_METRICS" "$qs" "$OUT/query" 2>&1 | tee "$OUT/query.log" >&2
	{
		for r in fresh settled; do
			[ -f "$OUT/query/$r.md" ] || continue
			echo "Run \"$r\" ($(grep "^$r: load average before" "$OUT/query/machine.txt" | cut -d: -f3- | sed 's/^ //') → $(grep "^$r: load average after" "$OUT/query/machine.txt" | cut -d: -f3- | sed 's/^ //')):"
			echo
			cat "$OUT/query/$r.md"
			echo
		done
	} >"$OUT/query.md"
	[ -s "$OUT/query.md" ] || echo "TODO: the query harness wrote no table (see query.log)" >"$OUT/query.md"
}

# --- run ------------------------------------------------------------------------------------------
N=${#STEPS[@]}
i=0
for s in "${STEPS[@]}"; do
	i=$((i + 1))
	log "step $i/$N: $s"
	read -r sec a b c <<<"$s"
	case $sec in
	ingest) ingest "$a" "$b" ;;
	bytes) bytes_noisy ;;
	query) query_vs ;;
	statsd) statsd_run "$a" "$b" "$c" ;;
	report)
		[ -n "$STATSD_SERVER" ] && stop "$SPID" && STATSD_SERVER=
		echo "load average at end: $(loadavg)" >>"$OUT/machine.txt"
		PLUMBAGO=$PLUMBAGO "$ROOT/scripts/bench-record-report.sh" "$OUT" >"$OUT/record.md"
		;;
	esac
done
log "done: $OUT/record.md"
