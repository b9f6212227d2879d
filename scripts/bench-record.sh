#!/usr/bin/env bash
# The benchmark record (issue #18 item 4): every side-by-side comparison of
# docs/benchmarks.md in one run, on this machine, with the loader on the same
# box, and one markdown table (record.md) plus PNG plots written from it;
# `scripts/bench-record-report.sh --docs DIR` then writes them into the docs.
#
#   ingest    W1 (100,000 new series x 100 points, then the same again into
#             the existing series) and 1,000,000 series x 20 points,
#             plaintext over 4 TCP connections, against VictoriaMetrics
#             (v1.151.0 from the Go module proxy) and Debian's carbon-cache,
#             same schema, same durability window where the peer has one
#             (stated in record.md), same socket rules.
#   bytes     issue 19's noisy two-decimal gauges (10,000 x 2,160 at 10 s,
#             internal/realdata via `plumbago loadtest --data gauges`) into
#             Plumbago (pebble) and VictoriaMetrics, the data's entropy beside.
#   query     issue 18's six queries and the Grafana POST against
#             VictoriaMetrics on 100,000 series x 2,160 points, fresh and
#             settled, sequential p50 and 8 clients' p50/p99/req/s
#             (loadtest/scripts/bench-query-vs-vm.sh).
#   statsd    1 and 20 metrics per datagram against etsy statsd (npm) and
#             collectd's statsd plugin (Debian collectd-core), every server on
#             the OS default UDP receive buffer, loss counted exactly (server
#             counters and the sockets' own drop counts), server and loader
#             CPU per metric; per server a short ladder that finds the highest
#             offered rate with < 1% loss and the rate twice that; then, at
#             each rate Plumbago ran, the kernel's floor: udpfloor (a bare
#             paced recvmmsg receiver on the same default buffer) under the
#             same loader, its CPU per line and its loss.
#   graph     issue 13's graph speed test against Debian's graphite-web, same
#             whisper files (query/graph TestGraphSpeedVsGraphiteWeb).
#   startup   issue 18 item 3: a 2,000,000-series pebble store (mkstore),
#             seconds from exec to /healthz, find and renders, warm and cold
#             page cache (storage/pebble/testdata/startup.sh); skipped, with
#             the reason in record.md, when it would end past --budget.
#
# usage: scripts/bench-record.sh [--quick|--full] [--out DIR] [--only LIST]
#                                [--skip LIST] [--carbon-1m] [--budget MIN] [--dry-run]
#   --quick      small sizes, short ladders: a smoke run of a few minutes
#                (figures not for the record)
#   --full       the record's sizes (default; about 40 minutes on a quiet 2-core box)
#   --out DIR    results directory (default bench-record-YYYYmmdd-HHMMSS)
#   --only LIST  comma-separated sections: ingest,bytes,query,statsd,graph,startup
#   --skip LIST  comma-separated sections or targets to leave out:
#                carbon-cache,victoriametrics,plumbago-pebble,plumbago-whisper,
#                etsy,collectd,plumbago-statsd
#   --carbon-1m  also run carbon-cache on 1 M series x 20 points (1,000,000
#                whisper files of 28 KB preallocated: 28 GB of disk)
#   --budget MIN the startup section runs only if its estimate ends within MIN
#                minutes of the start (default 40 full, 20 quick)
#   --dry-run    print the steps and exit
# env: PLUMBAGO (binary; default built from this checkout as it ships, by
#      scripts/build-plumbago.sh: CGO_ENABLED=0 -trimpath), VICTORIA_METRICS
#      (binary; default the cache below, else /work/tools/victoria-metrics if
#      it is v1.151.0, else built with go install), ETSY_STATSD_DIR,
#      BENCH_PORT_BASE (default 26100; a taken port moves the servers to the
#      next free block), BENCH_CACHE; START_1_etsy, START_20_plumbago, ...:
#      the first offered rate of a statsd ladder; RATES_1_etsy, ...: a fixed
#      ladder instead (offered metrics/s, 0 = flat out, " " skips the server).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=full OUT= ONLY= SKIP= CARBON_1M=0 DRY=0 BUDGET=
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
	--budget) BUDGET=${2:?--budget needs minutes}; shift ;;
	--budget=*) BUDGET=${1#--budget=} ;;
	--dry-run) DRY=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-record: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $BUDGET in '' | *[!0-9]*) [ -z "$BUDGET" ] || { echo "bench-record: --budget takes whole minutes" >&2; exit 2; } ;; esac
SECTIONS=" ingest bytes query statsd graph startup "
for s in ${ONLY//,/ }; do
	case $SECTIONS in *" $s "*) ;; *) echo "bench-record: unknown section $s in --only" >&2; exit 2 ;; esac
done
for s in ${SKIP//,/ }; do
	case "$SECTIONS carbon-cache victoriametrics plumbago-pebble plumbago-whisper etsy collectd plumbago-statsd " in *" $s "*) ;;
	*) echo "bench-record: unknown name $s in --skip" >&2; exit 2 ;;
	esac
done
want() { # section-or-target: not skipped, and in --only when that is given (targets: --only names sections)
	case ",$SKIP," in *",$1,"*) return 1 ;; esac
	case $SECTIONS in *" $1 "*) [ -z "$ONLY" ] || case ",$ONLY," in *",$1,"*) ;; *) return 1 ;; esac ;; esac
	return 0
}

# --- sizes ------------------------------------------------------------------
# CC_WAIT_*: how long the loader waits for carbon-cache's own count after its
# last byte (new series, existing series); past it the record gives carbon-cache
# an upper bound (points sent / seconds waited) and Plumbago a lower-bound ratio.
# STATSD_MAXR: rungs per statsd ladder (the loss-free rate and one past it).
if [ "$MODE" = quick ]; then
	W1_METRICS=10000 W1_POINTS=20 M1_METRICS=50000 M1_POINTS=20 BYTES_METRICS=1000 BYTES_POINTS=360 BYTES_SETTLE=10s
	STATSD_SECS=3 STATSD_MAXR=2 CC_WAIT_NEW=90 CC_WAIT_EXISTING=60
	QUERY_ENV=(SERIES=6000 SEQ=5 CLIENTS=8 DURATION=2s)
	STARTUP_SERIES=2000000 GRAPH_TIMEOUT=15m # startup.sh checks the names of a 2 M store
	BUDGET=${BUDGET:-20}
else
	W1_METRICS=100000 W1_POINTS=100 M1_METRICS=1000000 M1_POINTS=20 BYTES_METRICS=10000 BYTES_POINTS=2160 BYTES_SETTLE=45s
	STATSD_SECS=10 STATSD_MAXR=3 CC_WAIT_NEW=180 CC_WAIT_EXISTING=90
	QUERY_ENV=(SERIES=100000 SEQ=20 CLIENTS=8 DURATION=5s)
	STARTUP_SERIES=2000000 GRAPH_TIMEOUT=15m
	BUDGET=${BUDGET:-40}
fi
# First offered rate of each statsd ladder (metrics/s): about each server's
# loss-free rate on a quiet 2-core box with the OS default buffer; the ladder
# doubles it while the loss stays under 1% and halves it while not.
S1_etsy=${START_1_etsy:-20000} S1_collectd=${START_1_collectd:-50000} S1_plumbago=${START_1_plumbago:-200000}
# STATSD_CONNS: the loader's UDP sockets (source ports), each sending its own
# share of the keys, as many clients would: the kernel spreads flows over a
# server's SO_REUSEPORT sockets by a hash of the source port, and with 2 both
# landed on one of Plumbago's two sockets in 14 of 25 runs (docs/bench-rounds.md,
# the readers' yield), which made each of its rungs a coin toss. One key stays
# on one socket (gauge order). etsy and collectd read one socket either way.
STATSD_CONNS=${STATSD_CONNS:-8}
S20_etsy=${START_20_etsy:-100000} S20_collectd=${START_20_collectd:-500000} S20_plumbago=${START_20_plumbago:-2000000}

# --- steps and their estimated seconds on a quiet 2-core box (full sizes) -------
# The estimates give the progress line its ETA (scaled by how the steps done so
# far compared with theirs) and decide whether startup fits --budget.
STEPS=() EST=()
step() { # estimate-seconds step words...
	local e=$1
	shift
	[ "$MODE" = quick ] && e=$(((e + 2) / 3))
	STEPS+=("$*")
	EST+=("$e")
}
if want ingest; then
	want carbon-cache && step $((CC_WAIT_NEW + CC_WAIT_EXISTING + 160)) ingest W1 carbon-cache
	want victoriametrics && step 130 ingest W1 victoriametrics
	want plumbago-pebble && step 120 ingest W1 plumbago-pebble
	want plumbago-whisper && step 170 ingest W1 plumbago-whisper
	[ "$CARBON_1M" = 1 ] && want carbon-cache && step 1800 ingest 1M carbon-cache
	want victoriametrics && step 80 ingest 1M victoriametrics
	want plumbago-pebble && step 70 ingest 1M plumbago-pebble
fi
want bytes && step 180 bytes noisy
want query && want victoriametrics && step 420 query vs-victoriametrics
if want statsd; then
	for per in 1 20; do
		for srv in etsy collectd plumbago; do
			t=$srv
			[ "$srv" = plumbago ] && t=plumbago-statsd
			want "$t" || continue
			v=RATES_${per}_$srv
			if [ -n "${!v+set}" ]; then
				[ -n "${!v// /}" ] && step $((30 * $(wc -w <<<"${!v}"))) statsd "$per" "$srv" "${!v// /,}"
			else
				v=S${per}_$srv
				step $((STATSD_SECS * 6 + 5)) statsd "$per" "$srv" "from-${!v}"
			fi
			[ "$srv" = plumbago ] && step $((STATSD_SECS * 3 + 10)) statsd-floor "$per"
		done
	done
fi
want graph && step 190 graph vs-graphite-web
want startup && step 200 startup 2M-series
step 15 report

if [ "$DRY" = 1 ]; then
	total=0
	for e in "${EST[@]}"; do total=$((total + e)); done
	echo "bench-record: mode $MODE, ${#STEPS[@]} steps, about $(((total + 59) / 60)) minutes on a quiet box"
	i=0
	for s in "${STEPS[@]}"; do i=$((i + 1)); echo "  $i/${#STEPS[@]} $s"; done
	exit 0
fi

[ -n "$OUT" ] || OUT=bench-record-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/bench-record.XXXXXX)
CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/plumbago}
PIDS=() SPID=
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
	"$ROOT/scripts/build-plumbago.sh" "$PLUMBAGO"
fi
LOADTEST=("$PLUMBAGO" loadtest)
VM_VERSION=v1.151.0
vm_version() { go version -m "$1" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/VictoriaMetrics/VictoriaMetrics" {print $3}'; }
if [ -z "${VICTORIA_METRICS:-}" ]; then
	VICTORIA_METRICS=$CACHE/victoria-metrics-$VM_VERSION/victoria-metrics
	if [ ! -x "$VICTORIA_METRICS" ] && [ -x /work/tools/victoria-metrics ] && [ "$(vm_version /work/tools/victoria-metrics)" = "$VM_VERSION" ]; then
		VICTORIA_METRICS=/work/tools/victoria-metrics
	fi
	if [ ! -x "$VICTORIA_METRICS" ] && { want ingest || want bytes || want query; }; then
		log "building VictoriaMetrics $VM_VERSION into $(dirname "$VICTORIA_METRICS") (go install, a few minutes)"
		mkdir -p "$(dirname "$VICTORIA_METRICS")"
		GOBIN=$(dirname "$VICTORIA_METRICS") GOFLAGS=-mod=mod go install "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@$VM_VERSION"
	fi
fi
ETSY_STATSD_DIR=${ETSY_STATSD_DIR:-$CACHE/etsy-statsd}
if want statsd; then
	want etsy && { sh "$ROOT/ingest/statsd/testdata/install-etsy-statsd.sh" "$ETSY_STATSD_DIR" >/dev/null || log "etsy statsd did not install: its rows will say so"; }
	want collectd && { need_apt collectd collectd-core || log "collectd-core did not install: its rows will say so"; }
fi

# --- ports ---------------------------------------------------------------------
# Below the ephemeral range (net.ipv4.ip_local_port_range 32768-60999), where no
# client socket lands. Every server start checks its block is free (another
# process may have taken a port since) and moves to the next block of 100 if not.
PORT_BLOCK=${BENCH_PORT_BASE:-26100}
set_ports() { # base
	local b=$1
	P_CARBON=$((b + 3)) P_CARBON_PICKLE=$((b + 4)) P_CARBON_CACHEQ=$((b + 2))
	P_VM_HTTP=$((b + 28)) P_VM_GRAPHITE=$((b + 13))
	P_PL_HTTP=$((b + 80)) P_PL_CARBON=$((b + 23)) P_PL_PICKLE=$((b + 24)) P_PL_STATSD=$((b + 25))
	P_PL_ADMIN=$((b + 26)) P_PL_LINK=$((b + 22))
	P_ETSY=$((b + 35)) P_ETSY_MGMT=$((b + 36)) P_ETSY_SINK=$((b + 37)) P_COLLECTD=$((b + 45))
	P_STARTUP=$((b + 60)) # startup.sh: HTTP here, carbon on the next port
}
ports_free() {
	local p
	for p in $P_CARBON $P_CARBON_PICKLE $P_CARBON_CACHEQ $P_VM_HTTP $P_VM_GRAPHITE $P_PL_HTTP $P_PL_CARBON $P_PL_PICKLE \
		$P_PL_STATSD $P_PL_ADMIN $P_PL_LINK $P_ETSY $P_ETSY_MGMT $P_ETSY_SINK $P_COLLECTD $P_STARTUP $((P_STARTUP + 1)); do
		[ -n "$(ss -Htuln "sport = :$p")" ] && return 1
	done
	return 0
}
free_ports() { # before each server start: this block, else the next free one
	local k
	for k in $(seq 0 20); do
		set_ports $((PORT_BLOCK + 100 * k))
		if ports_free; then
			[ "$k" = 0 ] || { log "  a port of block $PORT_BLOCK is taken: moving to block $((PORT_BLOCK + 100 * k))"; PORT_BLOCK=$((PORT_BLOCK + 100 * k)); }
			return 0
		fi
	done
	log "  no free block of ports from $PORT_BLOCK"
	return 1
}
set_ports "$PORT_BLOCK"

wait_tcp() { # port pid: the port answers while pid lives
	for _ in $(seq 1 600); do
		kill -0 "$2" 2>/dev/null || { log "  the server (pid $2) exited before port $1 opened"; return 1; }
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	log "  port $1 never opened"
	return 1
}
wait_udp() { # port pid
	for _ in $(seq 1 600); do
		kill -0 "$2" 2>/dev/null || { log "  the server (pid $2) exited before UDP port $1 opened"; return 1; }
		[ -n "$(ss -Huln "sport = :$1")" ] && return 0
		sleep 0.1
	done
	log "  UDP port $1 never opened"
	return 1
}
stop() { # pid
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
# fail NAME REASON [LOG]: the step's rows in record.md say why there is no figure.
fail() {
	local why=$2
	[ -n "${3:-}" ] && [ -s "$3" ] && why="$why (the end of $(basename "$3"): $(tail -n 2 "$3" | tr '\n|' ' /' | cut -c1-300))"
	printf '%s\n' "$why" >"$OUT/$1.failed"
	log "  $1: no figure: $why"
}

# --- machine -----------------------------------------------------------------------
{
	echo "date: $(date -u +%FT%TZ)"
	echo "mode: $MODE"
	echo "statsd loader sockets: $STATSD_CONNS"
	echo "plumbago: $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo ' (dirty)')"
	echo "plumbago build: $("$ROOT/scripts/build-plumbago.sh" --settings "$PLUMBAGO" 2>/dev/null || echo unknown)"
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
	wait_tcp "$P_CARBON" "$SPID" || { cp "$C/log/console.log" "$OUT/serve-carbon-cache.log" 2>/dev/null; return 1; }
}
start_vm() { # dir
	# -inmemoryDataFlushInterval 1s: the same crash window as Plumbago's --sync-interval 1s
	# (1 s is VictoriaMetrics' minimum). -retentionPeriod 1d: the schema's longest retention.
	local args=(-storageDataPath "$1" -retentionPeriod 1d -inmemoryDataFlushInterval 1s
		-httpListenAddr "127.0.0.1:$P_VM_HTTP" -graphiteListenAddr "127.0.0.1:$P_VM_GRAPHITE" -loggerLevel WARN)
	server victoriametrics victoria-metrics "${args[@]}"
	[ -x "$VICTORIA_METRICS" ] || { echo "no VictoriaMetrics binary at $VICTORIA_METRICS" >>"$OUT/serve-victoriametrics.log"; return 1; }
	"$VICTORIA_METRICS" "${args[@]}" >>"$OUT/serve-victoriametrics.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	wait_tcp "$P_VM_HTTP" "$SPID" && wait_tcp "$P_VM_GRAPHITE" "$SPID"
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
	wait_tcp "$P_PL_HTTP" "$SPID"
}
# start TARGET DIR: a fresh server of TARGET on free ports (two tries: a port
# taken between the check and the bind moves the server to the next block).
start() {
	local k
	for k in 1 2; do
		free_ports || return 1
		case $1 in
		carbon-cache) start_carbon_cache "$2" && return 0 ;;
		victoriametrics) start_vm "$2" && return 0 ;;
		plumbago-pebble | plumbago-whisper) start_plumbago "${1#plumbago-}" "$2" && return 0 ;;
		esac
		stop "$SPID"
		[ "$k" = 1 ] && { log "  $1 did not start: trying the next block of ports"; PORT_BLOCK=$((PORT_BLOCK + 100)); rm -rf "$2"; mkdir -p "$2"; }
	done
	return 1
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
	start "$t" "$d" || { fail "$wl-new-$t" "$t did not start" "$(ls "$OUT"/serve-"$t"*.log 2>/dev/null | head -1)"; stop "$SPID"; return 1; }
	case $t in
	carbon-cache)
		addr=127.0.0.1:$P_CARBON datadir=$d/storage/whisper
		# carbon-cache writes its own committedPoints only when its writer reaches
		# them (after the biggest series, CACHE_WRITE_STRATEGY sorted): the count
		# stays flat for minutes, so the wait is bounded by time alone (CC_WAIT_*).
		extra=(--carbon-whisper "$d/storage/whisper")
		;;
	victoriametrics)
		addr=127.0.0.1:$P_VM_GRAPHITE
		extra=(--committed "prom:http://127.0.0.1:$P_VM_HTTP/metrics#vm_rows_added_to_storage_total"
			--received "prom:http://127.0.0.1:$P_VM_HTTP/metrics#vm_rows_inserted_total" --interval 250ms)
		;;
	plumbago-pebble | plumbago-whisper)
		addr=127.0.0.1:$P_PL_CARBON
		extra=(--plumbago "http://127.0.0.1:$P_PL_HTTP" --interval 250ms)
		;;
	esac
	local started=0
	for pass in $passes; do
		local name=$wl-$pass-$t verify=() wait=()
		if [ "$pass" = new ]; then
			case $t in carbon-cache) verify=(--verify-whisper "$d/storage/whisper") ;; plumbago-whisper) verify=(--verify-whisper "$d/whisper") ;; esac
			[ "$t" = carbon-cache ] && wait=(--settle "${CC_WAIT_NEW}s" --wait "${CC_WAIT_NEW}s")
		else
			# The same series one time span later: new slots in existing series. The
			# first pass's points end at its start (payload built, then sent), so
			# wait until one time span and a second after that.
			local left=$((started + points + 1 - $(date +%s)))
			if [ "$left" -gt 0 ]; then
				log "  waiting $left s so that the existing-series pass lands in new slots"
				sleep "$left"
			fi
			[ "$t" = carbon-cache ] && wait=(--settle "${CC_WAIT_EXISTING}s" --wait "${CC_WAIT_EXISTING}s")
		fi
		log "  $name: $metrics series x $points points"
		cmd "$name" "${LOADTEST[@]}" --scenario W1 --metrics "$metrics" --points "$points" --prefix "$prefix" \
			--addr "$addr" --server-pid "$SPID" --server-data-dir "$datadir" "${extra[@]}" "${wait[@]}" "${verify[@]}" \
			--json "$OUT/$name.json" 2>&1 | tee "$OUT/$name.txt" >&2
		[ -s "$OUT/$name.json" ] || fail "$name" "the loader wrote no report" "$OUT/$name.txt"
		kill -0 "$SPID" 2>/dev/null || { fail "$name" "$t exited during the run" "$(ls "$OUT"/serve-"$t"*.log 2>/dev/null | head -1)"; break; }
		if [ "$pass" = new ]; then
			started=$(date -d "$(jq -r '.started // empty' "$OUT/$name.json" 2>/dev/null)" +%s 2>/dev/null || date +%s)
		fi
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
	STATSD_SERVER=
	free_ports || return 1
	local port
	case $1 in
	etsy)
		cat >"$WORK/etsy.js" <<EOF
{ port: $P_ETSY, address: "127.0.0.1", mgmt_port: $P_ETSY_MGMT, mgmt_address: "127.0.0.1",
  graphiteHost: "127.0.0.1", graphitePort: $P_ETSY_SINK, flushInterval: 10000, backends: ["./backends/graphite"] }
EOF
		cp "$WORK/etsy.js" "$OUT/conf/"
		server etsy node stats.js etsy.js
		[ -f "$ETSY_STATSD_DIR/node_modules/statsd/stats.js" ] || { echo "etsy statsd is not installed in $ETSY_STATSD_DIR" >"$OUT/serve-etsy.log"; return 1; }
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
		[ -x /usr/sbin/collectd ] || { echo "collectd is not installed" >"$OUT/serve-collectd.log"; return 1; }
		/usr/sbin/collectd -C "$WORK/collectd.conf" -f >"$OUT/serve-collectd.log" 2>&1 &
		port=$P_COLLECTD
		;;
	plumbago)
		rm -rf "$WORK/data-statsd"
		# --socket-recv-buffer 106496: Linux doubles what is asked, so the socket
		# gets 212992 bytes, net.core.rmem_default, what etsy and collectd get.
		start_plumbago pebble "$WORK/data-statsd" --statsd-flush-interval 10s --socket-recv-buffer 106496 \
			--carbon-addr "" --pickle-addr "" || return 1
		port=$P_PL_STATSD
		;;
	esac
	[ "$1" = plumbago ] || { SPID=$!; PIDS+=("$SPID"); }
	wait_udp "$port" "$SPID" || return 1
	STATSD_SERVER=$1
	sleep 1
	echo "$1: $(ss -Hulmn "sport = :$port" | grep -o 'rb[0-9]*' | sort -u | paste -sd' ') (SO_RCVBUF of its sockets on :$port)" | tee -a "$OUT/statsd-buffers.txt" >&2
}
statsd_run() { # per server rate
	local per=$1 s=$2 r=$3 port counter=() name=statsd-$1-$2-r$3
	if ! statsd_server "$s"; then
		stop "$SPID"
		free_ports && statsd_server "$s" || { fail "$name" "$s did not start" "$OUT/serve-$s.log"; return 1; }
	fi
	case $s in
	# The count is read once a second after sending (--poll 1s): both counts
	# move only at a flush (every 10 s), and each read of Plumbago's
	# /metrics is a scrape its CPU figure pays for (about 2 ms of server CPU
	# each: at 10 a second over the settle, ~0.3 µs per metric at 100 k/s),
	# while etsy's sink is read in the loader and costs etsy nothing.
	etsy) port=$P_ETSY counter=(--committed "sink:127.0.0.1:$P_ETSY_SINK#stats_counts.statsd.metrics_received" --settle 13s --wait 60s --poll 1s) ;;
	plumbago) port=$P_PL_STATSD counter=(--committed "prom:http://127.0.0.1:$P_PL_HTTP/metrics#plumbago_statsd_metrics_total" --settle 13s --wait 60s --poll 1s) ;;
	collectd) port=$P_COLLECTD ;; # no count of lines received: its socket's drops are the loss
	esac
	local d0 s0 d1 s1
	d0=$(udp_drops "$port") s0=$(softnet_drops)
	log "  $name: ${r/#0/flat out} metrics/s offered for ${STATSD_SECS} s"
	cmd "$name" "${LOADTEST[@]}" --scenario statsd-1 --per-datagram "$per" --connections "$STATSD_CONNS" --addr "127.0.0.1:$port" --rate "$r" \
		--duration "${STATSD_SECS}s" --server-pid "$SPID" "${counter[@]}" --quiet --json "$OUT/$name.json" >"$OUT/$name.txt" 2>&1 ||
		log "  $name: the loader failed: $(tail -1 "$OUT/$name.txt")"
	[ "$s" = collectd ] && sleep 12 # a flush between runs, as the others wait for theirs
	d1=$(udp_drops "$port") s1=$(softnet_drops)
	printf '{"socket_drops": %d, "softnet_drops": %d}\n' $((d1 - d0)) $((s1 - s0)) >"$OUT/$name.drops"
	kill -0 "$SPID" 2>/dev/null || { fail "$name" "$s exited during the run" "$OUT/serve-$s.log"; STATSD_SERVER=; }
	[ -s "$OUT/$name.json" ] || { fail "$name" "the loader wrote no report" "$OUT/$name.txt"; return 1; }
	log "  $name: $(jq -r '"sent \(.points_sent) at \(.send_rate|floor)/s, counted \(.committed), loader CPU \(.loader_cpu_seconds) s"' "$OUT/$name.json" 2>/dev/null), socket drops $((d1 - d0)) datagrams"
}

# statsd_loss NAME PER SERVER: the run's loss in % (collectd: its socket's drops).
statsd_loss() {
	jq -r --argjson per "$2" --arg srv "$3" --slurpfile d "$OUT/$1.drops" \
		'if .points_sent > 0 then 100 * (if $srv == "collectd" then $d[0].socket_drops * $per else .lost end) / .points_sent else 100 end' "$OUT/$1.json"
}
# statsd_ladder PER SERVER from-RATE | R1,R2,...: a fixed ladder, or from RATE:
# double the offered rate while the loss stays under 1% (until the loader
# cannot send faster), halve it while not, until one rate under 1% and the
# next above it are both measured or STATSD_MAXR rungs were run.
statsd_ladder() {
	local per=$1 srv=$2 r ok= bad= n=0 name loss
	case $3 in
	from-*) r=${3#from-} ;;
	*)
		for r in ${3//,/ }; do statsd_run "$per" "$srv" "$r" || [ "$STATSD_SERVER" = "$srv" ] || return 1; done
		return 0
		;;
	esac
	while [ "$n" -lt "$STATSD_MAXR" ]; do
		n=$((n + 1))
		name=statsd-$per-$srv-r$r
		statsd_run "$per" "$srv" "$r" || return 1
		loss=$(statsd_loss "$name" "$per" "$srv") || return 1
		if awk -v l="$loss" 'BEGIN { exit !(l < 1) }'; then
			ok=$r
			[ -n "$bad" ] && break
			jq -e --argjson r "$r" '.send_rate < 0.97 * $r' "$OUT/$name.json" >/dev/null &&
				{ log "  $srv lost < 1% at the most the loader sent: the loader is the bound"; break; }
			r=$((r * 2))
		else
			bad=$r
			[ -n "$ok" ] && break
			r=$((r / 2))
		fi
	done
}

# statsd_floor PER: the kernel's own cost at each rate Plumbago's ladder ran:
# ingest/testdata/udpfloor (two SO_REUSEPORT sockets on the OS default buffer,
# each read by a blocking recvmmsg paced as Plumbago's readers are, the lines
# counted and nothing else) under the same loader. Not a peer: the least any
# receiver on this kernel pays per datagram at that rate, and what it loses.
statsd_floor() {
	local per=$1 f r name port pid
	[ -n "$STATSD_SERVER" ] && stop "$SPID"
	STATSD_SERVER=
	if [ ! -x "$WORK/udpfloor" ]; then
		(cd "$ROOT" && go build -o "$WORK/udpfloor" ./ingest/testdata/udpfloor) >"$OUT/floor-build.txt" 2>&1 ||
			{ fail "floor-statsd-$per" "udpfloor did not build" "$OUT/floor-build.txt"; return 1; }
	fi
	for f in "$OUT"/statsd-"$per"-plumbago-r*.json; do
		[ -f "$f" ] || continue
		r=${f##*-r}
		r=${r%.json}
		name=floor-statsd-$per-r$r
		free_ports || return 1
		port=$P_PL_STATSD
		server udpfloor "$WORK/udpfloor" --addr "127.0.0.1:$port" --sockets 2 --pace --rcvbuf 106496
		"$WORK/udpfloor" --addr "127.0.0.1:$port" --sockets 2 --pace --rcvbuf 106496 >"$OUT/$name.out" 2>&1 &
		pid=$!
		PIDS+=("$pid")
		wait_udp "$port" "$pid" || { fail "$name" "udpfloor did not start" "$OUT/$name.out"; stop "$pid"; continue; }
		log "  $name: $r metrics/s offered for ${STATSD_SECS} s to the bare receiver"
		cmd "$name" "${LOADTEST[@]}" --scenario statsd-1 --per-datagram "$per" --connections "$STATSD_CONNS" --addr "127.0.0.1:$port" --rate "$r" \
			--duration "${STATSD_SECS}s" --quiet --json "$OUT/$name.loader.json" >"$OUT/$name.txt" 2>&1 ||
			log "  $name: the loader failed: $(tail -1 "$OUT/$name.txt")"
		sleep 0.5
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null || true
		# udpfloor's last line: datagrams D lines L reads R user U s system S s = X us per datagram, Y us per line
		awk -v per="$per" -v r="$r" -v sent="$(jq -r '.points_sent // 0' "$OUT/$name.loader.json" 2>/dev/null || echo 0)" '
			$1 == "datagrams" { d = $2; l = $4; n = $6; u = $8; s = $11 }
			END { if (d == "" || sent == 0) exit 1
				printf "{\"per\": %d, \"rate\": %d, \"sent\": %d, \"datagrams\": %d, \"lines\": %d, \"reads\": %d, \"user_seconds\": %s, \"system_seconds\": %s, \"us_per_datagram\": %.4f, \"us_per_line\": %.4f, \"loss_percent\": %.4f}\n",
					per, r, sent, d, l, n, u, s, 1e6 * (u + s) / d, 1e6 * (u + s) / (l > 0 ? l : 1), 100 * (sent - l) / sent }' "$OUT/$name.out" >"$OUT/$name.json" ||
			{ rm -f "$OUT/$name.json"; fail "$name" "udpfloor gave no count" "$OUT/$name.out"; continue; }
		log "  $name: $(jq -r '"\(.us_per_line) us per line, \(.us_per_datagram) us per datagram, \(.loss_percent)% lost"' "$OUT/$name.json")"
	done
}

# --- bytes per point and queries ----------------------------------------------------------------
# bytes_noisy: issue 19's noisy two-decimal gauges (internal/realdata through
# `plumbago loadtest --data gauges`), the same points into VictoriaMetrics and
# Plumbago (pebble, schema 10s:12h,1m:7d: its rollup archive is stored too),
# disk measured --store-settle after the last commit and again at rest after a
# stop, the data's own entropy beside it.
bytes_noisy() {
	# (the help is read whole first: grep -q would stop reading, and pipefail would count the writer's SIGPIPE)
	if ! grep -q -- '-store-settle' <<<"$("${LOADTEST[@]}" -h 2>&1 || true)"; then
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
		name=bytes-noisy-$t
		SCHEMAS=$WORK/schemas-noisy.conf start "$t" "$d" || { fail "$name" "$t did not start" "$(ls "$OUT"/serve-"$t"*.log 2>/dev/null | head -1)"; stop "$SPID"; continue; }
		case $t in
		victoriametrics)
			addr=127.0.0.1:$P_VM_GRAPHITE
			extra=(--committed "prom:http://127.0.0.1:$P_VM_HTTP/metrics#vm_rows_added_to_storage_total")
			;;
		plumbago-pebble)
			addr=127.0.0.1:$P_PL_CARBON
			extra=(--plumbago "http://127.0.0.1:$P_PL_HTTP")
			;;
		esac
		log "  $name: $BYTES_METRICS noisy two-decimal gauges x $BYTES_POINTS points at 10 s"
		cmd "$name" "${LOADTEST[@]}" --scenario realistic --data gauges --decimals 2 --metrics "$BYTES_METRICS" \
			--points "$BYTES_POINTS" --step 10s --addr "$addr" --server-pid "$SPID" --server-data-dir "$d" \
			--store-settle "$BYTES_SETTLE" --interval 1s "${extra[@]}" --json "$OUT/$name.json" 2>&1 | tee "$OUT/$name.txt" >&2
		[ -s "$OUT/$name.json" ] || fail "$name" "the loader wrote no report" "$OUT/$name.txt"
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
	if [ ! -x "$qs" ] || ! grep -q -- '-servers' <<<"$("${LOADTEST[@]}" --scenario query-vs -h 2>&1 || true)"; then
		log "  TODO: no loadtest/scripts/bench-query-vs-vm.sh and query-vs scenario in this checkout (issue 18 item 1's harness): no query figures"
		echo "TODO: the query-vs harness is not in this checkout; no figure" >"$OUT/query.md"
		return 0
	fi
	# The harness picks its own free ports: a port taken between its pick and the
	# server's bind fails the run, which is then tried once more.
	local k
	for k in 1 2; do
		log "  $qs with ${QUERY_ENV[*]} (loads both servers, then times the queries fresh and settled)"
		rm -rf "$OUT/query"
		cmd query env "${QUERY_ENV[@]}" PLUMBAGO="$PLUMBAGO" VM="$VICTORIA_METRICS" "$qs" "$OUT/query" 2>&1 | tee "$OUT/query.log" >&2 &&
			[ -f "$OUT/query/settled.md" ] && break
		log "  the query harness failed (try $k): $(tail -1 "$OUT/query.log")"
	done
	{
		for r in fresh settled; do
			[ -f "$OUT/query/$r.md" ] || continue
			echo "Run \"$r\" ($(grep "^$r: load average before" "$OUT/query/machine.txt" | cut -d: -f3- | sed 's/^ //') → $(grep "^$r: load average after" "$OUT/query/machine.txt" | cut -d: -f3- | sed 's/^ //')):"
			echo
			cat "$OUT/query/$r.md"
			echo
		done
	} >"$OUT/query.md"
	[ -s "$OUT/query.md" ] || { echo "TODO: the query harness wrote no table (see query.log)" >"$OUT/query.md"; fail query "the query harness wrote no table" "$OUT/query.log"; }
}

# --- graphs and start-up (Plumbago's own figures against their targets) -------------------------
# graph_vs: issue 13's speed test, graphite-web and Plumbago on the same whisper
# files in one process run (query/graph TestGraphSpeedVsGraphiteWeb).
graph_vs() {
	log "  GRAPH_BENCH=1 go test -run TestGraphSpeedVsGraphiteWeb ./query/graph (graphite-web's /render view and Plumbago's, render cache off)"
	(cd "$ROOT" && cmd graph env GRAPH_BENCH=1 go test -count=1 -timeout "$GRAPH_TIMEOUT" -run '^TestGraphSpeedVsGraphiteWeb$' -v ./query/graph) >"$OUT/graph.txt" 2>&1
	grep -q 'faster in wall time' "$OUT/graph.txt" || fail graph "the graph speed test gave no figure" "$OUT/graph.txt"
}
# startup_2m: issue 18 item 3: a store of STARTUP_SERIES series from mkstore,
# then seconds from exec to /healthz, find and renders, twice with the page
# cache warm and twice with the store's files dropped from it.
startup_2m() {
	local d=$WORK/s2m
	rm -rf "$d"
	(cd "$ROOT" && go build -o "$WORK/mkstore" ./storage/pebble/testdata/mkstore) >"$OUT/startup.txt" 2>&1 ||
		{ fail startup "mkstore did not build" "$OUT/startup.txt"; return 1; }
	log "  mkstore: a pebble store of $STARTUP_SERIES series"
	cmd startup-mkstore "$WORK/mkstore" -dir "$d/pebble" -n "$STARTUP_SERIES" >"$OUT/startup-mkstore.txt" 2>&1 ||
		{ fail startup "mkstore failed" "$OUT/startup-mkstore.txt"; return 1; }
	echo "store: $STARTUP_SERIES series, $(du -sb "$d" | cut -f1) bytes" >"$OUT/startup.txt"
	local cold
	for cold in 0 1; do
		free_ports || return 1
		log "  startup.sh, page cache $([ $cold = 1 ] && echo cold || echo warm), 2 runs"
		echo "page cache $([ $cold = 1 ] && echo cold || echo warm):" >>"$OUT/startup.txt"
		cmd "startup-$([ $cold = 1 ] && echo cold || echo warm)" env RUNS=2 COLD=$cold TIMEOUT=60 \
			sh "$ROOT/storage/pebble/testdata/startup.sh" "$PLUMBAGO" "$d" "$P_STARTUP" >>"$OUT/startup.txt" 2>&1
	done
	rm -rf "$d"
	grep -q '^run .*healthz [0-9]' "$OUT/startup.txt" || fail startup "no start-up answered /healthz" "$OUT/startup.txt"
}

# --- run ------------------------------------------------------------------------------------------
# Each step runs in a condition, so a failure inside it does not end the run:
# the step's rows in record.md say why (the .failed files), and the next step
# starts from a clean state.
N=${#STEPS[@]}
i=0 done_est=0 left_est=0
for e in "${EST[@]}"; do left_est=$((left_est + e)); done
run_step() { # section words...
	local sec=$1
	shift
	case $sec in
	ingest) ingest "$@" ;;
	bytes) bytes_noisy ;;
	query) query_vs ;;
	statsd) statsd_ladder "$@" ;;
	statsd-floor) statsd_floor "$@" ;;
	graph) graph_vs ;;
	startup) startup_2m ;;
	report)
		[ -n "$STATSD_SERVER" ] && stop "$SPID"
		STATSD_SERVER=
		echo "load average at end: $(loadavg)" >>"$OUT/machine.txt"
		PLUMBAGO=$PLUMBAGO "$ROOT/scripts/bench-record-report.sh" "$OUT" >"$OUT/record.md"
		;;
	esac
}
for s in "${STEPS[@]}"; do
	e=${EST[$i]}
	i=$((i + 1))
	el=$(($(date +%s) - T0))
	# ETA: the steps left at the pace of the steps done (their time against their estimates).
	eta=$(awk -v el="$el" -v d="$done_est" -v l="$left_est" 'BEGIN { f = (d > 60 && el > 0) ? el / d : 1; if (f < 0.5) f = 0.5; printf "%d", l * f }')
	log "step $i/$N: $s (elapsed $((el / 60))m$((el % 60))s, about $((eta / 60))m$((eta % 60))s left, ETA $(date -u -d "@$(($(date +%s) + eta))" +%H:%M) UTC)"
	read -r sec a b c <<<"$s"
	if [ "$sec" = startup ] && [ $((el + e)) -gt $((BUDGET * 60)) ]; then
		fail startup "skipped: at $((el / 60)) minutes its estimated $((e / 60)) minutes would end past the budget of $BUDGET minutes (--budget)"
	elif ! run_step "$sec" $a $b $c; then
		log "  step $i/$N ($s) failed; the run goes on"
		[ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null && stop "$SPID"
		STATSD_SERVER=
	fi
	done_est=$((done_est + e)) left_est=$((left_est - e))
done
log "done: $OUT/record.md ($(ls "$OUT"/*.failed 2>/dev/null | wc -l) steps or runs without a figure: see record.md)"
