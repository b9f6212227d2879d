#!/bin/sh
# startup.sh BIN DATADIR [PORT]: seconds from exec of "BIN serve" on DATADIR (a store written by
# testdata/mkstore) to /healthz 200, /readyz 200, a correct find (the 100 names of app19.host099.cpu9)
# and a correct render (their sum, 199994950); each polled by its own loop every 20 ms.
bin=$1; dir=$2; port=${3:-19280}
w=$(mktemp -d)
t0=$(date +%s.%N)
"$bin" serve --data-dir "$dir" --http-addr 127.0.0.1:$port --carbon-addr 127.0.0.1:$((port+1)) --carbon-udp-addr off --pickle-addr "" --carbonlink-addr "" \
  --statsd-addr "" --statsd-admin-addr "" --log-level info ${FLAGS:-} >$w/serve.log 2>&1 &
pid=$!
u=http://127.0.0.1:$port
poll() { # name command...
  n=$1; shift
  until "$@" >/dev/null 2>&1; do sleep 0.02; done
  date +%s.%N >$w/$n
}
poll healthz sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $u/healthz)\" = 200 ]" &
poll readyz sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $u/readyz)\" = 200 ]" &
poll find sh -c "[ \"\$(curl -s '$u/metrics/find?query=app19.host099.cpu9.*' | grep -o '\"leaf\": 1' | wc -l)\" = 100 ]" &
poll render sh -c "curl -s '$u/render?target=sumSeries(app19.host099.cpu9.*)&from=-3h&format=json' | tr -d ' ' | grep -q '\[199994950.0,'" &
wait %2 %3 %4 %5 2>/dev/null
while [ ! -f $w/render ] || [ ! -f $w/find ] || [ ! -f $w/readyz ] || [ ! -f $w/healthz ]; do sleep 0.1; done
for n in healthz readyz find render; do printf '%s %.2f s, ' $n "$(echo "$(cat $w/$n) - $t0" | bc)"; done
echo "peak rss $(awk '/VmHWM/ {print $2/1024 " MiB"}' /proc/$pid/status), load $(cut -d' ' -f1 /proc/loadavg)"
grep -o 'series names loaded.*' $w/serve.log
kill $pid; wait $pid
rm -rf "$w"
