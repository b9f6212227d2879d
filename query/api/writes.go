package api

// ChangesData reports whether a request to the Graphite API changes stored
// data: registering or deleting tagged series, storing an event. The
// server's access guard gives such requests the write role and refuses
// them on a read-only node; every other API request only reads.
func ChangesData(method, path string) bool {
	if method != "POST" {
		return false // the write endpoints answer 405 to other methods
	}
	switch path {
	case "/tags/tagSeries", "/tags/tagMultiSeries", "/tags/delSeries", "/events", "/events/":
		return true
	}
	return false
}
