//go:build !linux

package ingest

// udpReadersSupported: elsewhere gnet serves the UDP listeners.
const udpReadersSupported = false

type udpReader struct{}

func (s *Server) startUDPReaders(int) error { return nil }

func (s *Server) stopUDPReaders() {}
