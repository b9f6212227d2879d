// Package storetest is the conformance suite every storage.Store backend
// must pass: whisper's write, propagation and fetch semantics, checked
// against hand-computed values and, when Debian's python3-whisper is
// installed, against Python whisper itself on the same input.
//
// A backend's test calls Run with a constructor:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, rules *schema.Rules, now func() int64) storage.Store {
//			...open a store in t.TempDir() with these rules and clock...
//		})
//	}
package storetest
