package graph

// SetThinStrokes turns the thin-stroke path on or off for a test and
// returns the function that restores the previous setting.
func SetThinStrokes(on bool) (restore func()) {
	old := thinStrokes
	thinStrokes = on
	return func() { thinStrokes = old }
}
