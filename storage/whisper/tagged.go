package whisper

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"unsafe"
)

// Tagged series ("name;tag=value;...", already normalised by ingest) live
// where carbon and graphite-web put them (graphite's TaggedSeries.encode):
//
//	<dir>/_tagged/<sha256[0:3]>/<sha256[3:6]>/<name with "." replaced by "_DOT_">.wsp
//
// carbon's TAG_HASH_FILENAMES=True writes <sha256>.wsp instead; graphite-web
// looks for both, and so do we: an existing hashed file is used for reads and
// writes, new files get the readable form because it can be decoded back to
// the series name by the startup scan (a hashed name can only be known from a
// tag database). A readable name too long for one file name falls back to the
// hashed form.

const taggedDir = "_tagged"

func isTagged(name string) bool { return strings.IndexByte(name, ';') >= 0 }

// validTaggedName checks a tagged name maps to one file inside _tagged.
func validTaggedName(name string) error {
	if len(name) == 0 || len(name) > maxNameLen {
		return fmt.Errorf("name of %d bytes: %w", len(name), ErrInvalidName)
	}
	if name[0] == ';' || strings.IndexByte(name, '/') >= 0 || strings.IndexByte(name, 0) >= 0 {
		return fmt.Errorf("tagged name %q: %w", name, ErrInvalidName)
	}
	return nil
}

// taggedPath appends the file path of tagged series name to dst.
func (s *Store) taggedPath(dst []byte, name string) []byte {
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(name), len(name)))
	var hx [64]byte
	hex.Encode(hx[:], sum[:])
	dst = append(dst[:0], s.dir...)
	dst = append(dst, "/"+taggedDir+"/"...)
	dst = append(dst, hx[0:3]...)
	dst = append(dst, '/')
	dst = append(dst, hx[3:6]...)
	dst = append(dst, '/')
	base := len(dst)
	hashed := append(dst, hx[:]...)
	hashed = append(hashed, ".wsp"...)
	encLen := len(name) + 4*strings.Count(name, ".") + len(".wsp")
	if encLen > 255 {
		return hashed
	}
	hashedPath := string(hashed[base:])
	dst = dst[:base]
	dst = append(dst, strings.ReplaceAll(name, ".", "_DOT_")...)
	dst = append(dst, ".wsp"...)
	if _, err := os.Stat(string(dst)); os.IsNotExist(err) {
		hp := string(dst[:base]) + hashedPath
		if _, err := os.Stat(hp); err == nil {
			return append(dst[:base], hashedPath...)
		}
	}
	return dst
}

// decodeTaggedFile returns the series name of a readable _tagged file name
// (without .wsp), or false for a hashed one.
func decodeTaggedFile(leaf string) (string, bool) {
	if strings.IndexByte(leaf, ';') < 0 {
		return "", false
	}
	return strings.ReplaceAll(leaf, "_DOT_", "."), true
}
