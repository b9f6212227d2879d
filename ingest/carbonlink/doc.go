// Package carbonlink answers carbon's cache-query protocol (carbon-cache's
// port 7002), so a graphite-web pointed at Plumbago with CARBONLINK_HOSTS sees
// points that are accepted but not yet written to the backend.
//
// Requests and responses are pickles framed by a 4-byte big-endian length.
// Supported request types: cache-query, cache-query-bulk and get-metadata
// (key aggregationMethod). set-metadata and unknown types get carbon's
// {'error': ...} answer. Server.Handle is stream-oriented and owns no socket:
// the network core feeds it whatever bytes arrived and writes back what it
// returns.
package carbonlink
