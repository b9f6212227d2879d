package api

import (
	"testing"
	"time"
)

var findCases = []string{
	"/metrics/find?query=*",
	"/metrics/find?query=a.*",
	"/metrics/find?query=a.b.*",
	"/metrics/find?query=a.b",
	"/metrics/find?query=a.b.c1",
	"/metrics/find?query=a.b.c*",
	"/metrics/find?query=a.b.*c*",
	"/metrics/find?query=a.{b,x}.*",
	"/metrics/find?query=a.b.c[13]",
	"/metrics/find?query=host-?.*",
	"/metrics/find?query=nonexistent.*",
	"/metrics/find?query=a.b.*&wildcards=1",
	"/metrics/find?query=a.*&wildcards=1",
	"/metrics/find?query=a.b.*&leavesOnly=1",
	"/metrics/find?query=a.*&from=-1h&until=now",
	"/metrics/find?query=a.b&format=completer",
	"/metrics/find?query=a.b.&format=completer",
	"/metrics/find?query=a..c&format=completer",
	"/metrics/find?query=a.*&format=completer&wildcards=1",
	"/metrics/find?query=a.b.*&jsonp=cb",
	"/metrics/find?query=",
	"/metrics/find",
	"/metrics/find?query=a.*&format=bogus",
	"/metrics/find?query=a.*&leavesOnly=x",
	"/metrics/find?query=a.*.*&format=nodelist",
	"/metrics/find?query=a.*.*&format=nodelist&position=1",
	"/metrics/find?query=*.*&format=nodelist&position=0",
	"/metrics/expand?query=a.*",
	"/metrics/expand?query=a.b.*&query=host-*.*.*&query=a.*",
	"/metrics/expand?query=a.b.*&query=host-*.*.*&groupByExpr=1",
	"/metrics/expand?query=a.*&leavesOnly=1",
	"/metrics/expand?query=a.*&jsonp=cb",
	"/metrics/expand?query=nothing",
	"/metrics/expand",
	"/metrics/index.json",
	"/metrics/index.json?jsonp=f",
	"/metrics/find?query=a.b.*&pretty=1",
	"/metrics/expand?query=a.*&pretty=1",
}

func TestFindOracle(t *testing.T) {
	src, dir, now := sharedFixture(t)
	srv := startServer(t, src, time.Unix(now, 0))
	want := runOracle(t, dir, findCases)
	for i, p := range findCases {
		status, ct, body := srv.get(t, p)
		w := want[i]
		if !okLikeOracle(t, p, w, status, ct, body) {
			continue
		}
		if string(body) != w.Body {
			t.Errorf("%s:\n ours %s\n want %s", p, trunc(string(body)), trunc(w.Body))
		}
	}
}
