package whisper

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unsafe"
)

// Tagged series (names with ';', "cpu;host=a;dc=x") are stored where
// carbon 1.1 and graphite-web look for them: under
// <Dir>/_tagged/<h[0:3]>/<h[3:6]>/ where h is the hex SHA-256 of the name.
// Carbon names the file either <name with '.' replaced by "_DOT_">.wsp
// (TAG_HASH_FILENAMES = False) or <h>.wsp (True, its default); graphite-web
// tries both. New files get the readable name, because the startup scan can
// decode it back to the series name and so rebuild the tag index after a
// restart (a hash can only be resolved through a tag database); a name too
// long for one file name gets the hash. An existing hash-named file (carbon's
// default) is read and written in place. The name must already be carbon's
// canonical form (tags sorted), which the ingest side produces.

const (
	taggedDir        = "_tagged"
	maxTaggedNameLen = 4096
	dotEscape        = "_DOT_"
)

func isTagged(name string) bool { return strings.IndexByte(name, ';') >= 0 }

// validTaggedName: a metric part before the first ';' and a bounded length;
// the file name is a hash, so no byte of the name reaches the path.
func validTaggedName(name string) error {
	if len(name) > maxTaggedNameLen {
		return fmt.Errorf("tagged name of %d bytes: %w", len(name), ErrInvalidName)
	}
	if name[0] == ';' {
		return fmt.Errorf("tagged name %q without a metric: %w", name, ErrInvalidName)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return fmt.Errorf("NUL in %q: %w", name, ErrInvalidName)
	}
	return nil
}

// taggedDirPath appends <dir>/_tagged/<h[0:3]>/<h[3:6]>/ to dst and returns
// it with the full hex hash in hx.
func (s *Store) taggedDirPath(dst []byte, name string, hx *[64]byte) []byte {
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(name), len(name)))
	hex.Encode(hx[:], sum[:])
	dst = append(dst[:0], s.dir...)
	dst = append(dst, "/"+taggedDir+"/"...)
	dst = append(dst, hx[0:3]...)
	dst = append(dst, '/')
	dst = append(dst, hx[3:6]...)
	return append(dst, '/')
}

// taggedHashPath appends the hash-named path of a tagged series.
func (s *Store) taggedHashPath(dst []byte, name string) []byte {
	var hx [64]byte
	dst = s.taggedDirPath(dst, name, &hx)
	dst = append(dst, hx[:]...)
	return append(dst, ".wsp"...)
}

// taggedNamePath appends the readable-name path (TAG_HASH_FILENAMES = False),
// or returns ok=false when the name cannot be a single file name.
func (s *Store) taggedNamePath(dst []byte, name string) ([]byte, bool) {
	if strings.IndexByte(name, '/') >= 0 {
		return dst, false
	}
	enc := len(name) + strings.Count(name, ".")*(len(dotEscape)-1) + len(".wsp")
	if enc > 255 {
		return dst, false
	}
	var hx [64]byte
	dst = s.taggedDirPath(dst, name, &hx)
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			dst = append(dst, dotEscape...)
		} else {
			dst = append(dst, name[i])
		}
	}
	return append(dst, ".wsp"...), true
}

// isHashLeaf reports whether a file name (without .wsp) is a bare SHA-256.
func isHashLeaf(leaf string) bool {
	if len(leaf) != 64 {
		return false
	}
	for i := 0; i < len(leaf); i++ {
		c := leaf[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// taggedPrimaryPath appends the path new files of a tagged series get: the
// readable name when it fits in one file name, else the hash.
func (s *Store) taggedPrimaryPath(dst []byte, name string) []byte {
	if p, ok := s.taggedNamePath(dst, name); ok {
		return p
	}
	return s.taggedHashPath(dst, name)
}

// taggedAltPath appends the other path a tagged series may already have on
// disk (carbon's hash name), when the primary one is the readable name.
func (s *Store) taggedAltPath(dst []byte, name string) ([]byte, bool) {
	if _, ok := s.taggedNamePath(dst, name); !ok {
		return dst, false
	}
	return s.taggedHashPath(dst, name), true
}
