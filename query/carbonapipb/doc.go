// Package carbonapipb encodes and decodes the carbonapi backend protocols
// (go-graphite/protocol carbonapi_v2_pb and carbonapi_v3_pb) by hand with
// protowire, so a Plumbago node can serve as a carbonapi / carbonzipper
// backend without generated code.
//
// Field numbers follow the upstream .proto files:
//
//	v2 GlobMatch{path=1, isLeaf=2}  GlobResponse{name=1, matches=2}
//	v2 FetchResponse{name=1, startTime=2, stopTime=3, stepTime=4 (int32),
//	   values=5 (packed double), isAbsent=6 (packed bool)}
//	v2 MultiFetchResponse{metrics=1}
//	v3 FilteringFunction{name=1, arguments=2}
//	v3 FetchRequest{name=1, startTime=2, stopTime=3 (int64),
//	   highPrecisionTimestamps=4, pathExpression=5, filterFunctions=6,
//	   maxDataPoints=7}
//	v3 MultiFetchRequest{metrics=1}
//	v3 FetchResponse{name=1, pathExpression=2, consolidationFunc=3,
//	   startTime=4, stopTime=5, stepTime=6, xFilesFactor=7 (float),
//	   highPrecisionTimestamps=8, values=9 (packed double, NaN = absent),
//	   appliedFunctions=10, requestStartTime=11, requestStopTime=12}
//	v3 MultiFetchResponse{metrics=1}
//	v3 MultiGlobRequest{metrics=1, startTime=2, stopTime=3,
//	   highPrecisionTimestamps=4}
//	v3 MultiGlobResponse{metrics=1 (GlobResponse)}
//	v3 CapabilityResponse{supportedProtocols=1, name=2,
//	   highPrecisionTimestamps=3, supportFilteringFunctions=4,
//	   likeSplittedRequests=5, supportStreaming=6}
//
// Encoders append to a caller buffer; decoders are bounded (MaxItems) and
// return errors, never panic, on hostile input. Unknown fields are
// skipped, as protobuf requires.
package carbonapipb
