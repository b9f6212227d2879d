package schema

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Retention is one whisper archive: its resolution and its number of points.
type Retention struct {
	SecondsPerPoint int64
	Points          int64
}

// MaxRetention returns the span the archive covers, in seconds.
func (r Retention) MaxRetention() int64 { return r.SecondsPerPoint * r.Points }

// String formats r as "<seconds>:<points>", which ParseRetentions reads back.
func (r Retention) String() string {
	return strconv.FormatInt(r.SecondsPerPoint, 10) + ":" + strconv.FormatInt(r.Points, 10)
}

// Limits that keep a retention representable in a whisper header (u32
// fields) and a file addressable with u32 offsets.
const (
	maxRetentionString = 4096
	maxArchives        = 64
	pointSize          = 12
	headerMetaSize     = 16
	archiveInfoSize    = 12
)

// unit names as whisper.py spells them; any non-empty prefix selects the unit
// ("m", "min", "minutes"), which is a superset of carbon 1.1's s/m/h/d/w/y.
var units = [...]struct {
	name    string
	seconds int64
}{
	{"seconds", 1},
	{"minutes", 60},
	{"hours", 3600},
	{"days", 86400},
	{"weeks", 7 * 86400},
	{"years", 365 * 86400},
}

func unitSeconds(u string) (int64, bool) {
	for _, x := range units {
		if strings.HasPrefix(x.name, u) {
			return x.seconds, true
		}
	}
	return 0, false
}

// parseAmount parses "<digits>" (ok=false for unit) or "<digits><unit>".
func parseAmount(s string) (n int64, unit int64, err error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, 0, errors.New("must start with a number")
	}
	n, err = strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n > math.MaxUint32 {
		return 0, 0, errors.New("number out of range")
	}
	if i == len(s) {
		return n, 0, nil
	}
	u := s[i:]
	for j := 0; j < len(u); j++ {
		if u[j] < 'a' || u[j] > 'z' {
			return 0, 0, fmt.Errorf("invalid unit %q", u)
		}
	}
	sec, ok := unitSeconds(u)
	if !ok {
		return 0, 0, fmt.Errorf("invalid unit %q", u)
	}
	return n, sec, nil
}

// ParseRetention parses one "precision:retention" item as carbon does: a bare
// integer precision is seconds, a bare integer retention is a number of
// points, "<n><unit>" is a duration (a retention duration is converted to
// points by integer division by the precision).
func ParseRetention(s string) (Retention, error) {
	item := strings.TrimSpace(s)
	p, q, ok := strings.Cut(item, ":")
	if !ok {
		return Retention{}, fmt.Errorf("parsing retention %q: want precision:retention", s)
	}
	p, q = strings.TrimSpace(p), strings.TrimSpace(q)
	n, unit, err := parseAmount(p)
	if err != nil {
		return Retention{}, fmt.Errorf("parsing retention %q: invalid precision %q: %w", s, p, err)
	}
	if unit == 0 {
		unit = 1
	}
	spp := n * unit
	if spp <= 0 || spp > math.MaxUint32 {
		return Retention{}, fmt.Errorf("parsing retention %q: precision must be between 1 s and %d s", s, uint32(math.MaxUint32))
	}
	n, unit, err = parseAmount(q)
	if err != nil {
		return Retention{}, fmt.Errorf("parsing retention %q: invalid retention %q: %w", s, q, err)
	}
	points := n
	if unit != 0 {
		points = n * unit / spp
	}
	if points <= 0 {
		return Retention{}, fmt.Errorf("parsing retention %q: an archive needs at least one point", s)
	}
	r := Retention{SecondsPerPoint: spp, Points: points}
	if r.Points > math.MaxUint32 || r.MaxRetention() > math.MaxUint32 {
		return Retention{}, fmt.Errorf("parsing retention %q: retention %d s exceeds whisper's 32-bit limit", s, r.MaxRetention())
	}
	return r, nil
}

// ParseRetentions parses a comma-separated retention list
// ("10s:6h,1m:7d,10m:5y", "60:1440"), keeping its order. Spaces around items
// and around the colon are ignored. It does not validate the list as a
// whole; see ValidateRetentions.
func ParseRetentions(s string) ([]Retention, error) {
	if len(s) > maxRetentionString {
		return nil, fmt.Errorf("parsing retentions %.40q...: longer than %d bytes", s, maxRetentionString)
	}
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("parsing retentions: empty list")
	}
	items := strings.Split(s, ",")
	if len(items) > maxArchives {
		return nil, fmt.Errorf("parsing retentions %q: more than %d archives", s, maxArchives)
	}
	rs := make([]Retention, 0, len(items))
	for _, it := range items {
		r, err := ParseRetention(it)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// SortRetentions sorts rs finest first, the order whisper stores archives in.
func SortRetentions(rs []Retention) {
	slices.SortStableFunc(rs, func(a, b Retention) int {
		switch {
		case a.SecondsPerPoint < b.SecondsPerPoint:
			return -1
		case a.SecondsPerPoint > b.SecondsPerPoint:
			return 1
		}
		return 0
	})
}

// ValidateRetentions applies whisper.create's rules to rs (taken finest
// first, as whisper sorts them): at least one archive, no two archives with
// the same precision, each coarser precision an exact multiple of the finer
// one, each coarser archive covering a strictly longer span, and each archive
// holding at least as many points as the next one consolidates. It also
// rejects lists a whisper header cannot represent (non-positive values,
// 32-bit overflow of spans or file offsets). rs itself is not reordered.
func ValidateRetentions(rs []Retention) error {
	if len(rs) == 0 {
		return errors.New("invalid retentions: at least one archive is required")
	}
	if len(rs) > maxArchives {
		return fmt.Errorf("invalid retentions: %d archives, at most %d allowed", len(rs), maxArchives)
	}
	s := slices.Clone(rs)
	SortRetentions(s)
	size := int64(headerMetaSize + archiveInfoSize*len(s))
	for i, a := range s {
		if a.SecondsPerPoint <= 0 || a.Points <= 0 {
			return fmt.Errorf("invalid retentions: archive%d %s: precision and points must be positive", i, a)
		}
		if a.SecondsPerPoint > math.MaxUint32 || a.Points > math.MaxUint32 || a.MaxRetention() > math.MaxUint32 {
			return fmt.Errorf("invalid retentions: archive%d %s exceeds whisper's 32-bit limit", i, a)
		}
		size += a.Points * pointSize
		if size > math.MaxUint32 {
			return fmt.Errorf("invalid retentions: file would exceed 4 GiB (whisper uses 32-bit offsets)")
		}
		if i == len(s)-1 {
			break
		}
		b := s[i+1]
		if a.SecondsPerPoint == b.SecondsPerPoint {
			return fmt.Errorf("invalid retentions: two archives with the same precision (archive%d: %s, archive%d: %s)", i, a, i+1, b)
		}
		if b.SecondsPerPoint%a.SecondsPerPoint != 0 {
			return fmt.Errorf("invalid retentions: a finer precision must evenly divide every coarser one (archive%d: %d s, archive%d: %d s)", i, a.SecondsPerPoint, i+1, b.SecondsPerPoint)
		}
		if b.MaxRetention() <= a.MaxRetention() {
			return fmt.Errorf("invalid retentions: coarser archives must cover longer spans (archive%d: %d s, archive%d: %d s)", i, a.MaxRetention(), i+1, b.MaxRetention())
		}
		if per := b.SecondsPerPoint / a.SecondsPerPoint; a.Points < per {
			return fmt.Errorf("invalid retentions: archive%d consolidates %d of archive%d's points but it has only %d points", i+1, per, i, a.Points)
		}
	}
	return nil
}

// FileSize returns the size in bytes of a whisper file with these archives.
func FileSize(rs []Retention) int64 {
	n := int64(headerMetaSize + archiveInfoSize*len(rs))
	for _, r := range rs {
		n += r.Points * pointSize
	}
	return n
}

// ArchiveFor is whisper's archive choice for reading (file_fetch): of n
// archives, finest first, whose i-th keeps retention(i) seconds, the finest
// that covers age seconds (now - from), else the coarsest. Every backend
// and the write buffer's step choose with it, so a render and the cache
// overlay agree on the step.
func ArchiveFor(n int, retention func(i int) int64, age int64) int {
	for i := range n {
		if retention(i) >= age {
			return i
		}
	}
	return n - 1
}

// StepFor returns the step of the archive ArchiveFor picks among rs (finest
// first, as Rules guarantees), or 0 when rs is empty.
func StepFor(rs []Retention, age int64) int64 {
	if len(rs) == 0 {
		return 0
	}
	return rs[ArchiveFor(len(rs), func(i int) int64 { return rs[i].MaxRetention() }, age)].SecondsPerPoint
}
