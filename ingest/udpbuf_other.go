//go:build !unix

package ingest

import "errors"

// SetRecvBuffer is not supported on this platform: the socket keeps the
// buffer gnet asked for.
func SetRecvBuffer(int, int) (int, error) {
	return 0, errors.New("setting a socket's receive buffer by descriptor is not supported here")
}
