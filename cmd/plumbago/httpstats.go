package main

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// httpStats counts API requests and their latency per endpoint class, for
// /metrics (plumbago_http_requests_total, plumbago_http_request_duration_seconds).
type httpStats struct {
	classes [numClasses]classStats
}

type endpointClass int

const (
	classRender endpointClass = iota
	classFind
	classTags
	classOther
	numClasses
)

var classNames = [numClasses]string{"render", "find", "tags", "other"}

// latencyBuckets are the histogram's upper bounds in seconds.
var latencyBuckets = [...]float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type classStats struct {
	count   atomic.Uint64
	errors  atomic.Uint64 // responses with status >= 400
	sumNano atomic.Uint64
	buckets [len(latencyBuckets)]atomic.Uint64
}

func classify(path string) endpointClass {
	switch {
	case strings.HasPrefix(path, "/render"):
		return classRender
	case strings.HasPrefix(path, "/metrics/find"), strings.HasPrefix(path, "/metrics/expand"), path == "/metrics/index.json":
		return classFind
	case strings.HasPrefix(path, "/tags"):
		return classTags
	}
	return classOther
}

func (h *httpStats) observe(c endpointClass, d time.Duration, status int) {
	cs := &h.classes[c]
	cs.count.Add(1)
	if status >= 400 {
		cs.errors.Add(1)
	}
	cs.sumNano.Add(uint64(d))
	sec := d.Seconds()
	for i, b := range latencyBuckets {
		if sec <= b {
			cs.buckets[i].Add(1)
		}
	}
}

// answered is how many requests were answered, all classes.
func (h *httpStats) answered() uint64 {
	var n uint64
	for c := range numClasses {
		n += h.classes[c].count.Load()
	}
	return n
}

func (h *httpStats) write(p *promWriter) {
	for c := range numClasses {
		cs := &h.classes[c]
		p.counter("plumbago_http_requests_total", "Graphite API requests answered, by endpoint class.", cs.count.Load(), "endpoint", classNames[c])
	}
	for c := range numClasses {
		cs := &h.classes[c]
		p.counter("plumbago_http_request_errors_total", "Graphite API requests answered with a 4xx or 5xx status, by endpoint class.", cs.errors.Load(), "endpoint", classNames[c])
	}
	const name = "plumbago_http_request_duration_seconds"
	p.header(name, "histogram", "Graphite API request latency, by endpoint class.")
	for c := range numClasses {
		cs := &h.classes[c]
		for i, b := range latencyBuckets {
			p.w.WriteString(name + `_bucket{endpoint="` + classNames[c] + `",le="` + strconv.FormatFloat(b, 'g', -1, 64) + `"} ` + strconv.FormatUint(cs.buckets[i].Load(), 10) + "\n")
		}
		n := strconv.FormatUint(cs.count.Load(), 10)
		p.w.WriteString(name + `_bucket{endpoint="` + classNames[c] + `",le="+Inf"} ` + n + "\n")
		p.w.WriteString(name + `_sum{endpoint="` + classNames[c] + `"} ` + strconv.FormatFloat(float64(cs.sumNano.Load())/1e9, 'g', -1, 64) + "\n")
		p.w.WriteString(name + `_count{endpoint="` + classNames[c] + `"} ` + n + "\n")
	}
}
