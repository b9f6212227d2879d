package graph

import (
	"strconv"
	"strings"
	"time"
)

const (
	sec  = 1
	min_ = 60
	hour = 3600
	day  = 86400
)

// xAxisConfig is one row of glyph.py's xAxisConfigs (from rrdtool).
type xAxisConfig struct {
	seconds     float64
	minorUnit   int64
	minorStep   float64
	majorUnit   int64
	majorStep   float64
	labelUnit   int64
	labelStep   float64
	format      string
	maxInterval int64 // 0 = none
}

const dateFormat = "%m/%d" // graphite-web's DATE_FORMAT default

var xAxisConfigs = []xAxisConfig{
	{0.00, sec, 5, min_, 1, sec, 5, "%H:%M:%S", 10 * min_},
	{0.07, sec, 10, min_, 1, sec, 10, "%H:%M:%S", 20 * min_},
	{0.14, sec, 15, min_, 1, sec, 15, "%H:%M:%S", 30 * min_},
	{0.27, sec, 30, min_, 2, min_, 1, "%H:%M", 2 * hour},
	{0.5, min_, 1, min_, 2, min_, 1, "%H:%M", 2 * hour},
	{1.2, min_, 1, min_, 4, min_, 2, "%H:%M", 3 * hour},
	{2, min_, 1, min_, 10, min_, 5, "%H:%M", 6 * hour},
	{5, min_, 2, min_, 10, min_, 10, "%H:%M", 12 * hour},
	{10, min_, 5, min_, 20, min_, 20, "%H:%M", 1 * day},
	{30, min_, 10, hour, 1, hour, 1, "%H:%M", 2 * day},
	{60, min_, 30, hour, 2, hour, 2, "%H:%M", 2 * day},
	{100, hour, 2, hour, 4, hour, 4, "%a %H:%M", 6 * day},
	{255, hour, 6, hour, 12, hour, 12, dateFormat + " %H:%M", 10 * day},
	{600, hour, 6, day, 1, day, 1, dateFormat, 14 * day},
	{1000, hour, 12, day, 1, day, 1, dateFormat, 365 * day},
	{2000, day, 1, day, 2, day, 2, dateFormat, 365 * day},
	{4000, day, 2, day, 4, day, 4, dateFormat, 365 * day},
	{8000, day, 3.5, day, 7, day, 7, dateFormat, 365 * day},
	{16000, day, 7, day, 14, day, 14, dateFormat, 365 * day},
	{32000, day, 15, day, 30, day, 30, dateFormat, 365 * day},
	{64000, day, 30, day, 60, day, 60, dateFormat + " %Y", 0},
	{100000, day, 60, day, 120, day, 120, dateFormat + " %Y", 0},
	{120000, day, 120, day, 240, day, 240, dateFormat + " %Y", 0},
}

// chooseXConfig is setupXAxis's choice: the last config fine enough for
// the seconds per pixel whose maxInterval covers the range.
func chooseXConfig(secondsPerPixel float64, timeRange int64) xAxisConfig {
	var best *xAxisConfig
	for i := range xAxisConfigs {
		c := &xAxisConfigs[i]
		mi := c.maxInterval
		if mi == 0 {
			mi = timeRange + 1
		}
		if c.seconds <= secondsPerPixel && mi >= timeRange {
			best = c
		}
	}
	if best == nil {
		return xAxisConfigs[len(xAxisConfigs)-1]
	}
	return *best
}

// wallClock is graphite-web's x-axis time arithmetic: pytz datetimes
// keep the start's UTC offset while timedeltas are added, so every tick
// is the start's wall clock plus whole seconds.
type wallClock struct {
	off   int64 // start's UTC offset, seconds
	zone  string
	start int64 // start as wall seconds (unix + off)
	end   int64 // end, unix
}

func newWallClock(start, end int64, loc *time.Location) wallClock {
	name, off := time.Unix(start, 0).In(loc).Zone()
	return wallClock{off: int64(off), zone: name, start: start + int64(off), end: end}
}

// firstTick is find_x_times: the start rounded down to the unit and step,
// then stepped forward to the start; wall seconds and the step.
func (w wallClock) firstTick(unit int64, step float64) (float64, float64) {
	s := w.start
	dayStart := s - mod(s, day)
	var dt int64
	switch unit {
	case sec:
		second := mod(s, 60)
		dt = s - second + (second - second%int64(step))
	case min_:
		minute := mod(s, hour) / 60
		dt = s - mod(s, hour) + (minute-minute%int64(step))*60
	case hour:
		h := mod(s, day) / hour
		dt = dayStart + (h-h%int64(step))*hour
	default:
		dt = dayStart
	}
	delta := float64(unit) * step
	t := float64(dt)
	for t < float64(s) {
		t += delta
	}
	return t, delta
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// before reports whether wall time t is before the end instant.
func (w wallClock) before(t float64) bool { return t-float64(w.off) < float64(w.end) }

// strftime formats wall seconds t (with the fixed offset) like Python's
// datetime.strftime in the C locale.
func (w wallClock) strftime(format string, t float64) string {
	tm := time.Unix(int64(t), 0).UTC()
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'a':
			b.WriteString(tm.Weekday().String()[:3])
		case 'A':
			b.WriteString(tm.Weekday().String())
		case 'b', 'h':
			b.WriteString(tm.Month().String()[:3])
		case 'B':
			b.WriteString(tm.Month().String())
		case 'd':
			pad2(&b, tm.Day())
		case 'e':
			if tm.Day() < 10 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Itoa(tm.Day()))
		case 'H':
			pad2(&b, tm.Hour())
		case 'I':
			pad2(&b, hour12(tm.Hour()))
		case 'l':
			if hour12(tm.Hour()) < 10 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Itoa(hour12(tm.Hour())))
		case 'j':
			s := strconv.Itoa(tm.YearDay())
			b.WriteString(strings.Repeat("0", 3-len(s)) + s)
		case 'm':
			pad2(&b, int(tm.Month()))
		case 'M':
			pad2(&b, tm.Minute())
		case 'p':
			if tm.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'S':
			pad2(&b, tm.Second())
		case 'y':
			pad2(&b, tm.Year()%100)
		case 'Y':
			b.WriteString(strconv.Itoa(tm.Year()))
		case 'Z':
			b.WriteString(w.zone)
		case 'z':
			off := w.off
			sign := byte('+')
			if off < 0 {
				sign, off = '-', -off
			}
			b.WriteByte(sign)
			pad2(&b, int(off/3600))
			pad2(&b, int(off%3600/60))
		case 'u':
			wd := int(tm.Weekday())
			if wd == 0 {
				wd = 7
			}
			b.WriteString(strconv.Itoa(wd))
		case 'w':
			b.WriteString(strconv.Itoa(int(tm.Weekday())))
		case 's':
			b.WriteString(strconv.FormatInt(int64(t)-w.off, 10))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

func hour12(h int) int {
	h %= 12
	if h == 0 {
		return 12
	}
	return h
}

func pad2(b *strings.Builder, n int) {
	if n < 10 {
		b.WriteByte('0')
	}
	b.WriteString(strconv.Itoa(n))
}
