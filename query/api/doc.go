// Package api serves the Graphite HTTP API of graphite-web 1.1 over
// fasthttp: /render (json, csv, raw; maxDataPoints, noNullPoints, jsonp)
// and /metrics/find (treejson, completer, json). The server owner chains
// Handle after its own routes; Handle reports whether it answered.
package api
