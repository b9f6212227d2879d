package ingest

// Sink receives parsed points. Each event loop owns its own Sink, so
// implementations need not be safe for concurrent use, and callers must not
// share one across goroutines.
//
// name is only valid for the duration of the call (it usually aliases the
// event loop's read buffer): implementations copy what they keep. A Sink may
// block when storage is saturated; that is how backpressure reaches the
// sockets.
type Sink interface {
	AddPoint(name []byte, timestamp int64, value float64)
}

// SinkFunc adapts a function to the Sink interface.
type SinkFunc func(name []byte, timestamp int64, value float64)

// AddPoint calls f.
func (f SinkFunc) AddPoint(name []byte, timestamp int64, value float64) { f(name, timestamp, value) }
