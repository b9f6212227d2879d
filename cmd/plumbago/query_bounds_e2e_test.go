package main

import (
	"net/url"
	"strings"
	"testing"
)

// TestInputBoundFlags: the request-input bounds that were fixed constants
// (target length, call nesting, points a function generates per series,
// find pattern length, tags parameters) follow their flags on the binary:
// one step over each answers 400 naming the bound, one step under is
// served. They are query-side only, so one backend suffices.
func TestInputBoundFlags(t *testing.T) {
	bin := buildBinary(t)
	p := startPlumbago(t, bin, "--data-dir", t.TempDir(),
		"--render-max-target-len", "20", "--render-max-call-depth", "2", "--render-max-generated-points", "100",
		"--find-max-query-len", "10", "--tags-max-params", "2")
	defer p.stop(t)
	h := "http://" + p.http
	identity := func(from string) string {
		return "/render?format=json&target=" + url.QueryEscape(`identity("x")`) + "&from=" + from + "&until=now"
	}
	for _, c := range []struct {
		path   string
		status int
		body   string // the whole answer, or its start for a 200
	}{
		{"/render?format=json&target=aaaaaaaaaa.bbbbbbbbbb", 400, "Invalid parameters (target longer than 20 bytes: syntax error)"},
		{"/render?format=json&target=aaaaaaaaaa.bbbbbbbbb", 200, "[]"},
		{"/render?format=json&target=" + url.QueryEscape("sum(sum(sum(a)))"), 400,
			`Invalid parameters (parsing target "sum(sum(sum(a)))" at offset 12: nesting deeper than 2: syntax error)`},
		{"/render?format=json&target=" + url.QueryEscape("sum(sum(a))"), 200, "[]"},
		// identity steps 60 s: 6,060 s is 101 points, 6,000 s 100.
		{identity("-6060s"), 400, "Invalid parameters (the generator would make 101 points, more than the limit of 100 per series (render-max-generated-points))"},
		{identity("-6000s"), 200, `[{"target": "x", "tags": {"name": "x"}, "datapoints": [[`},
		{"/metrics/find?query=aaaaa.bbbbb", 400, "Invalid parameters (query longer than 10 bytes, the limit of find-max-query-len)"},
		{"/metrics/expand?query=aaaaa.bbbbb", 400, "Invalid parameters (query longer than 10 bytes, the limit of find-max-query-len)"},
		{"/metrics/find?query=aaaa.bbbbb", 200, "[]"},
		{"/tags/findSeries?expr=a%3D1&expr=b%3D2&expr=c%3D3", 400, `{"error": "too many expr parameters (more than 2, the limit of tags-max-params)"}`},
		{"/tags/findSeries?expr=a%3D1&expr=b%3D2", 200, "[]"},
	} {
		status, body := httpDo(t, "GET", h+c.path, "")
		body = strings.TrimSpace(body)
		ok := status == c.status && (body == c.body || c.status == 200 && strings.HasPrefix(body, c.body))
		if !ok {
			t.Errorf("GET %s = %d %.300s\nwant %d %s", c.path, status, body, c.status, c.body)
		}
	}
}
