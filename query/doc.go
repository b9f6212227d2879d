// Package query evaluates Graphite render targets the way graphite-web 1.1
// does: path expressions are expanded through a Source (Find, then Fetch of
// every leaf in parallel), functions come from one table per graphite-web
// function group (functions_<group>.go, listed in registry.go), and
// results are written in graphite-web's json, csv and raw formats,
// including maxDataPoints consolidation.
//
// Sub-packages: target (the grammar), attime (from/until parsing) and api
// (the fasthttp handlers for /render, /metrics/find and friends).
//
// Series values use NaN for graphite-web's None.
package query
