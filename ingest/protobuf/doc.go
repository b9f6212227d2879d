// Package protobuf decodes carbon's protobuf ingest format (carbon.proto, the
// receiver carbon-cache offers on port 2005 and go-carbon's "protobuf"
// protocol): the same 4-byte big-endian length framing as pickle, each frame
// a carbon.Payload:
//
//	message Point   { uint32 timestamp = 1; double value = 2; }
//	message Metric  { string metric = 1; repeated Point points = 2; }
//	message Payload { repeated Metric metrics = 1; }
//
// The decoder is hand-written over the wire format: it allocates nothing,
// skips unknown fields, accepts fields in any order (a metric's name may
// follow its points) and rejects truncated or malformed frames whole.
package protobuf
