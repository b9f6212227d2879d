#!/bin/sh
# startup.sh BIN DATADIR [PORT]: seconds from exec of "BIN serve" on DATADIR (a store written by
# testdata/mkstore) to /healthz 200, /readyz 200, a correct find (the 100 names of app19.host099.cpu9,
# the last subtree in key order), a correct render of one series (app19.host099.cpu9.m042 = 1999942)
# and of a glob (the sum of those 100, 199994950); each polled by its own loop every 20 ms. With each
# time, the server's CPU seconds (user+system from /proc) when it was seen; then its peak RSS.
#   RUNS=n     start the server n times (default 1), one line each
#   COLD=1     before each start, drop the store's files from the page cache (posix_fadvise
#              DONTNEED: no root needed; the binary and libraries stay cached)
#   FLAGS=..   extra serve flags
#   TIMEOUT=s  give up on a check after s seconds from exec (default 300): it prints "timeout"
#              and the run's line still ends, so the script always finishes
# The renders ask for from=-6h: mkstore writes its one point a series at the time of writing
# minus 60 s, and the built-in schema's 10 s archive keeps 6 h, so a store older than about
# 6 h renders nothing (the render checks time out): rebuild it then. The server writes to
# DATADIR (its own series, compactions): run it on a copy of a store you want to keep as is.
bin=$1; dir=$2; port=${3:-19280}
u=http://127.0.0.1:$port
tck=$(getconf CLK_TCK)
limit=${TIMEOUT:-300}
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null' EXIT
trap 'exit 1' INT TERM
cpu() { awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' /proc/$1/stat 2>/dev/null; }
secs() { awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%d", a - b }'; } # whole seconds since exec
poll() { # name command...
  n=$1; shift
  until "$@" >/dev/null 2>&1; do
    if [ "$(secs)" -ge "$limit" ] || ! kill -0 $pid 2>/dev/null; then
      echo timeout >$w/$n
      return
    fi
    sleep 0.02
  done
  echo "$(date +%s.%N) $(cpu $pid)" >$w/$n
}
run=0
while [ $run -lt "${RUNS:-1}" ]; do
  run=$((run + 1))
  if [ "${COLD:-}" = 1 ]; then
    find "$dir" -type f -exec python3 -c 'import os, sys
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' {} +
  fi
  w=$(mktemp -d)
  t0=$(date +%s.%N)
  "$bin" serve --data-dir "$dir" --http-addr 127.0.0.1:$port --carbon-addr 127.0.0.1:$((port+1)) --carbon-udp-addr off --pickle-addr "" --carbonlink-addr "" \
    --statsd-addr "" --statsd-admin-addr "" --log-level info ${FLAGS:-} >$w/serve.log 2>&1 &
  pid=$!
  polls=""
  poll healthz sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $u/healthz)\" = 200 ]" & polls="$polls $!"
  poll readyz sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $u/readyz)\" = 200 ]" & polls="$polls $!"
  poll find sh -c "[ \"\$(curl -s '$u/metrics/find?query=app19.host099.cpu9.*' | grep -o '\"leaf\": 1' | wc -l)\" = 100 ]" & polls="$polls $!"
  poll render1 sh -c "curl -s '$u/render?target=app19.host099.cpu9.m042&from=-6h&format=json' | tr -d ' ' | grep -q '\[1999942.0,'" & polls="$polls $!"
  poll renderglob sh -c "curl -s '$u/render?target=sumSeries(app19.host099.cpu9.*)&from=-6h&format=json' | tr -d ' ' | grep -q '\[199994950.0,'" & polls="$polls $!"
  wait $polls
  printf 'run %d: ' $run
  for n in healthz readyz find render1 renderglob; do
    set -- $(cat $w/$n)
    if [ "$1" = timeout ]; then
      printf '%s timeout, ' $n
    else
      printf '%s %.2f s (cpu %s s), ' $n "$(echo "$1 - $t0" | bc)" "$2"
    fi
  done
  # the name map (the load's second step) is in when the log says so
  until grep -q 'series names loaded' $w/serve.log || [ "$(secs)" -ge "$limit" ] || ! kill -0 $pid 2>/dev/null; do
    sleep 0.1
  done
  echo "loaded: cpu $(cpu $pid) s, peak rss $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' /proc/$pid/status 2>/dev/null), load $(cut -d' ' -f1 /proc/loadavg)"
  grep -o 'series names \(indexed\|loaded\).*' $w/serve.log | sed 's/^/  /'
  if ! kill -0 $pid 2>/dev/null; then
    echo "  the server exited; the end of its log:"
    tail -5 $w/serve.log | sed 's/^/  /'
  fi
  kill $pid 2>/dev/null; wait $pid
  pid=""
  rm -rf "$w"
done
