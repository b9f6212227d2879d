//go:build !linux

package loadtest

import "io"

// isTerminal is false off Linux: progress is printed as lines, not redrawn.
func isTerminal(io.Writer) bool { return false }
