package tuning

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseBytes parses a size such as "512MiB", "8GiB", "4G", "65536" or "1.5GiB".
// Both decimal-looking (K, M, G, T) and binary (KiB, MiB, ...) suffixes are
// read as powers of 1024, as operators mean them for memory.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "b"), "i")
	mult := int64(1)
	switch unit {
	case "":
	case "k":
		mult = KiB
	case "m":
		mult = MiB
	case "g":
		mult = GiB
	case "t":
		mult = 1 << 40
	default:
		return 0, fmt.Errorf("parsing size %q: unknown unit", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("parsing size %q: not a non-negative number", s)
	}
	return int64(f * float64(mult)), nil
}

// FormatBytes renders n with a binary unit, e.g. "7.5 GiB", "64 MiB", "512 B".
func FormatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f := float64(n)
	u := 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	if f == float64(int64(f)) {
		return fmt.Sprintf("%d %s", int64(f), units[u])
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", f), ".0") + " " + units[u]
}
