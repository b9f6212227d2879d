package attime

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// stripper removes the separators graphite-web's parseATTime ignores (built
// once: a Replacer's first use builds its tables).
var stripper = strings.NewReplacer("_", "", ",", "", " ", "")

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid time")

// MaxLen bounds the accepted input.
const MaxLen = 256

// MinTime and MaxTime bound every parsed time: 1900-01-01 00:00:00 UTC to
// 9999-12-31 23:59:59 UTC. graphite-web's Python datetime fails past year
// 9999; before 1900 no Graphite data can exist (whisper's timestamps count
// from 1970) while from=-100y stays answered as graphite-web answers it.
// Refusing absurd times here keeps the time frame of a request (and so the
// points generators make over it) sane before anything is evaluated.
var (
	MinTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// maxOffset bounds offsets (250 years) so time arithmetic cannot overflow.
const maxOffset = 250 * 365 * 24 * time.Hour

var months = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func errf(in string, format string, args ...any) error {
	return fmt.Errorf("parsing time %q: %s: %w", in, fmt.Sprintf(format, args...), ErrInvalid)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi parses a non-empty run of ASCII digits (Python's int() on the
// strings attime.py slices; anything else is an error).
func atoi(in, s string) (int, error) {
	if !isDigits(s) || len(s) > 9 {
		return 0, errf(in, "invalid number %q", s)
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, nil
}

// Parse parses s relative to now in loc (nil = UTC). Times outside
// [MinTime, MaxTime] are errors.
func Parse(s string, now time.Time, loc *time.Location) (time.Time, error) {
	t, err := parse(s, now, loc)
	if err != nil {
		return t, err
	}
	if t.Before(MinTime) || t.After(MaxTime) {
		in := s
		if len(in) > 32 {
			in = in[:32] + "..."
		}
		return time.Time{}, errf(in, "time %s is outside the supported range %s to %s",
			t.UTC().Format(time.DateTime), MinTime.Format(time.DateOnly), MaxTime.Format(time.DateOnly))
	}
	return t, nil
}

func parse(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	if len(s) > MaxLen {
		return time.Time{}, errf(s[:32]+"...", "longer than %d bytes", MaxLen)
	}
	in := s
	s = strings.ToLower(strings.TrimSpace(s))
	s = stripper.Replace(s)
	if isDigits(s) {
		yyyymmdd := false
		if len(s) == 8 {
			y, _ := atoi(in, s[:4])
			m, _ := atoi(in, s[4:6])
			d, _ := atoi(in, s[6:])
			yyyymmdd = y > 1900 && m < 13 && d < 32
		}
		if !yyyymmdd {
			if len(s) > 12 {
				return time.Time{}, errf(in, "timestamp out of range")
			}
			var n int64
			for i := 0; i < len(s); i++ {
				n = n*10 + int64(s[i]-'0')
			}
			return time.Unix(n, 0).In(loc), nil
		}
	}
	ref, offset := s, ""
	if i := strings.IndexByte(s, '+'); i >= 0 {
		ref, offset = s[:i], s[i:]
	} else if i := strings.IndexByte(s, '-'); i >= 0 {
		ref, offset = s[:i], s[i:]
	}
	t, err := reference(in, ref, now.In(loc), loc)
	if err != nil {
		return time.Time{}, err
	}
	d, err := offsetDuration(in, offset)
	if err != nil {
		return time.Time{}, err
	}
	return t.Add(d), nil
}

func reference(in, ref string, now time.Time, loc *time.Location) (time.Time, error) {
	if ref == "" || ref == "now" {
		return now, nil
	}
	hour, minute, ref, err := timeOfDay(in, ref)
	if err != nil {
		return time.Time{}, err
	}
	y, mo, d, err := day(in, ref, now)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(y, mo, d, hour, minute, 0, 0, loc), nil
}

// timeOfDay reads the time-of-day part at the start of a reference
// ("14:30", "2pm", "noon", "midnight", "teatime"; 00:00 when there is
// none) and returns the rest, the day part.
func timeOfDay(in, ref string) (hour, minute int, rest string, err error) {
	if i := strings.IndexByte(ref, ':'); i > 0 && i < 3 {
		if hour, err = atoi(in, ref[:i]); err != nil {
			return 0, 0, "", err
		}
		end := min(i+3, len(ref))
		if minute, err = atoi(in, ref[i+1:end]); err != nil {
			return 0, 0, "", err
		}
		ref = ref[end:]
		if strings.HasPrefix(ref, "am") {
			ref = ref[2:]
		} else if strings.HasPrefix(ref, "pm") {
			hour = (hour + 12) % 24
			ref = ref[2:]
		}
	}
	if i := strings.Index(ref, "am"); i > 0 && i < 3 {
		h, err := atoi(in, ref[:i])
		if err != nil {
			return 0, 0, "", err
		}
		hour = h
		ref = ref[i+2:]
	}
	if i := strings.Index(ref, "pm"); i > 0 && i < 3 {
		h, err := atoi(in, ref[:i])
		if err != nil {
			return 0, 0, "", err
		}
		hour = (h + 12) % 24
		ref = ref[i+2:]
	}
	switch {
	case strings.HasPrefix(ref, "noon"):
		hour, minute = 12, 0
		ref = ref[4:]
	case strings.HasPrefix(ref, "midnight"):
		hour, minute = 0, 0
		ref = ref[8:]
	case strings.HasPrefix(ref, "teatime"):
		hour, minute = 16, 0
		ref = ref[7:]
	}
	if hour > 23 || minute > 59 {
		return 0, 0, "", errf(in, "hour or minute out of range")
	}
	return hour, minute, ref, nil
}

// day reads the day part of a reference ("yesterday", "MM/DD/YY",
// "YYYYMMDD", "jan 5", a weekday; today when empty) relative to now.
func day(in, ref string, now time.Time) (int, time.Month, int, error) {
	y, mo, d := now.Date()
	switch {
	case ref == "yesterday" || ref == "today" || ref == "tomorrow":
		if ref == "yesterday" {
			d--
		} else if ref == "tomorrow" {
			d++
		}
		// Python adds a timedelta to the naive date: calendar arithmetic.
		t := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		y, mo, d = t.Date()
	case strings.Count(ref, "/") == 2:
		parts := strings.Split(ref, "/")
		m, err := atoi(in, parts[0])
		if err != nil {
			return 0, 0, 0, err
		}
		dd, err := atoi(in, parts[1])
		if err != nil {
			return 0, 0, 0, err
		}
		yy, err := atoi(in, parts[2])
		if err != nil {
			return 0, 0, 0, err
		}
		if yy < 1900 {
			yy += 1900
		}
		if yy < 1970 {
			yy += 100
		}
		if err := checkDate(in, yy, m, dd); err != nil {
			return 0, 0, 0, err
		}
		y, mo, d = yy, time.Month(m), dd
	case len(ref) == 8 && isDigits(ref):
		yy, _ := atoi(in, ref[:4])
		m, _ := atoi(in, ref[4:6])
		dd, _ := atoi(in, ref[6:8])
		if err := checkDate(in, yy, m, dd); err != nil {
			return 0, 0, 0, err
		}
		y, mo, d = yy, time.Month(m), dd
	case len(ref) >= 3 && indexOf(months, ref[:3]) >= 0:
		var dd int
		switch {
		case len(ref) >= 2 && isDigits(ref[len(ref)-2:]):
			dd, _ = atoi(in, ref[len(ref)-2:])
		case isDigits(ref[len(ref)-1:]):
			dd, _ = atoi(in, ref[len(ref)-1:])
		default:
			return 0, 0, 0, errf(in, "day of month required after month name")
		}
		m := indexOf(months, ref[:3]) + 1
		if err := checkDate(in, y, m, dd); err != nil {
			return 0, 0, 0, err
		}
		mo, d = time.Month(m), dd
	case len(ref) >= 3 && indexOf(weekdays, ref[:3]) >= 0:
		today := int(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Weekday())
		off := today - indexOf(weekdays, ref[:3])
		if off < 0 {
			off += 7
		}
		t := time.Date(y, mo, d-off, 0, 0, 0, 0, time.UTC)
		y, mo, d = t.Date()
	case ref != "":
		return 0, 0, 0, errf(in, "unknown day reference %q", ref)
	}
	return y, mo, d, nil
}

func checkDate(in string, y, m, d int) error {
	if y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 {
		return errf(in, "date out of range")
	}
	if time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Day() != d {
		return errf(in, "day is out of range for month")
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// Unit returns the length of one offset unit by graphite's prefix rules
// (s, min, h, d, w, mon = 30 days, y = 365 days).
func Unit(u string) (time.Duration, bool) {
	switch {
	case strings.HasPrefix(u, "s"):
		return time.Second, true
	case strings.HasPrefix(u, "min"):
		return time.Minute, true
	case strings.HasPrefix(u, "h"):
		return time.Hour, true
	case strings.HasPrefix(u, "d"):
		return 24 * time.Hour, true
	case strings.HasPrefix(u, "w"):
		return 7 * 24 * time.Hour, true
	case strings.HasPrefix(u, "mon"):
		return 30 * 24 * time.Hour, true
	case strings.HasPrefix(u, "y"):
		return 365 * 24 * time.Hour, true
	}
	return 0, false
}

// Offset parses an offset such as "-1d12h", "+5min" or "1h" (graphite-web's
// parseTimeOffset). The empty string is zero.
func Offset(s string) (time.Duration, error) {
	if len(s) > MaxLen {
		return 0, errf(s[:32]+"...", "longer than %d bytes", MaxLen)
	}
	return offsetDuration(s, s)
}

func offsetDuration(in, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	sign := time.Duration(1)
	switch s[0] {
	case '+':
		s = s[1:]
	case '-':
		sign = -1
		s = s[1:]
	default:
		if s[0] < '0' || s[0] > '9' {
			return 0, errf(in, "invalid offset %q", s)
		}
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, errf(in, "invalid offset %q", s)
		}
		if i > 12 {
			return 0, errf(in, "offset out of range")
		}
		var num int64
		for k := 0; k < i; k++ {
			num = num*10 + int64(s[k]-'0')
		}
		s = s[i:]
		j := 0
		for j < len(s) && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z')) {
			j++
		}
		unit := s[:j]
		s = s[j:]
		u, ok := Unit(unit)
		if !ok {
			return 0, errf(in, "invalid offset unit %q", unit)
		}
		if num > int64(maxOffset/u) {
			return 0, errf(in, "offset out of range")
		}
		total += time.Duration(num) * u
		if total > maxOffset {
			return 0, errf(in, "offset out of range")
		}
	}
	return sign * total, nil
}
