package statsd

import (
	"bytes"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LoopRunner runs fn on every event loop's own goroutine (gnet's
// EventLoop.Execute) and returns once all have run. The admin console uses it
// to see and delete the data the loops hold for the current interval.
type LoopRunner func(fn func(*Loop))

// Admin is the statsd management console (etsy's port 8126).
type Admin struct {
	f     *Flusher
	loops LoopRunner
	now   func() time.Time
}

// NewAdmin returns the console for f. loops may be nil: the console then shows
// only what the Flusher holds (the state as of the last flush).
func NewAdmin(f *Flusher, loops LoopRunner) *Admin {
	return &Admin{f: f, loops: loops, now: time.Now}
}

// Health reports the console's health flag ("up" or "down").
func (f *Flusher) Health() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.health
}

// maxCommand bounds one read of the console: etsy takes each read as one
// command line, and no command is longer.
const maxCommand = 64 << 10

// ServeConn implements ingest.ConnServer: the network core hands the
// console each connection on a goroutine of its own, so every command is
// answered with the live view (every loop's current interval) before the
// next read. A client that half-closes after its command (printf 'stats\n' |
// nc -q1 host 8126) gets the whole reply before the connection closes, as
// from etsy.
func (h *AdminHandler) ServeConn(conn net.Conn) {
	buf := make([]byte, maxCommand)
	for {
		n, err := conn.Read(buf)
		if n > 0 && h.Admin.Handle(buf[:n], conn) {
			return
		}
		if err != nil {
			return
		}
	}
}

const helpText = "Commands: stats, counters, timers, gauges, sets, delcounters, deltimers, delgauges, delsets, health, config, quit\n\n"

// Handle runs one command. Like etsy, everything that arrived in one read is
// one command line: it is trimmed and split on spaces. It reports whether the
// connection should be closed (quit).
func (a *Admin) Handle(data []byte, w io.Writer) (closeConn bool) {
	return a.handle(data, w, true)
}

// handle runs a command; withLoops false leaves the loops out (the caller is
// an event loop and must not wait for the others).
func (a *Admin) handle(data []byte, w io.Writer, withLoops bool) (closeConn bool) {
	line := string(jsTrim(data))
	args := strings.Split(line, " ")
	cmd, params := args[0], args[1:]
	var out bytes.Buffer
	switch cmd {
	case "help":
		out.WriteString(helpText)
	case "config":
		a.writeConfig(&out)
	case "health":
		a.f.mu.Lock()
		if len(params) > 0 {
			switch strings.ToLower(params[0]) {
			case "up":
				a.f.health = "up"
			case "down":
				a.f.health = "down"
			}
		}
		out.WriteString("health: " + a.f.health + "\n")
		a.f.mu.Unlock()
	case "stats":
		a.writeStats(&out, withLoops)
	case "counters", "timers", "gauges", "sets":
		view, _, _ := a.view(withLoops)
		out.WriteString(inspectState(view, cmd))
		out.WriteString("\nEND\n\n")
	case "delcounters", "deltimers", "delgauges", "delsets":
		a.del(cmd, params, &out, withLoops)
	case "quit":
		return true
	default:
		out.WriteString("ERROR\n")
	}
	_, err := w.Write(out.Bytes())
	return err != nil
}

// view returns the Flusher's state with the loops' current interval merged
// in, plus the live bad-line count and the latest message time.
func (a *Admin) view(withLoops bool) (*state, float64, int64) {
	var live []*Snapshot
	if a.loops != nil && withLoops {
		var mu sync.Mutex
		a.loops(func(l *Loop) {
			c := l.Clone()
			mu.Lock()
			live = append(live, c)
			mu.Unlock()
		})
	}
	f := a.f
	f.mu.Lock()
	defer f.mu.Unlock()
	v := &state{}
	for _, e := range f.st.counters.ents {
		if e.live {
			*v.counters.getS(e.name) = e.v
		}
	}
	for _, e := range f.st.timers.ents {
		if e.live {
			*v.timers.getS(e.name) = timerVal{vals: slices.Clone(e.v.vals), count: e.v.count}
		}
	}
	for _, e := range f.st.gauges.ents {
		if e.live {
			*v.gauges.getS(e.name) = e.v
		}
	}
	for _, e := range f.st.sets.ents {
		if e.live {
			m := make(map[string]struct{}, len(e.v))
			for k := range e.v {
				m[k] = struct{}{}
			}
			*v.sets.getS(e.name) = m
		}
	}
	saved := f.delG
	f.delG = false // the view must not touch TTLs
	f.merge(v, live)
	f.delG = saved
	bad, last := f.badTotal, f.lastMsgSeen
	for _, s := range live {
		bad += s.bad
		if s.lastMsg > last {
			last = s.lastMsg
		}
	}
	return v, bad, last
}

func inspectState(v *state, which string) string {
	var keys, vals []string
	switch which {
	case "counters":
		for _, e := range v.counters.ents {
			if e.live {
				keys = append(keys, e.name)
				vals = append(vals, inspectNumber(e.v))
			}
		}
	case "timers":
		for _, e := range v.timers.ents {
			if e.live {
				el := make([]string, len(e.v.vals))
				for i, x := range e.v.vals {
					el[i] = inspectNumber(x)
				}
				keys = append(keys, e.name)
				vals = append(vals, inspectArray(el, 2, true))
			}
		}
	case "gauges":
		for _, e := range v.gauges.ents {
			if e.live {
				keys = append(keys, e.name)
				vals = append(vals, inspectNumber(e.v.v))
			}
		}
	case "sets":
		for _, e := range v.sets.ents {
			if e.live {
				var el []string
				for m := range e.v {
					el = append(el, m)
				}
				slices.Sort(el)
				for i := range el {
					el[i] = inspectString(el[i])
				}
				keys = append(keys, e.name)
				vals = append(vals, inspectArray(el, 2, false))
			}
		}
	}
	return inspectObject(keys, vals)
}

func (a *Admin) writeStats(out *bytes.Buffer, withLoops bool) {
	_, bad, lastMsg := a.view(withLoops)
	f := a.f
	f.mu.Lock()
	defer f.mu.Unlock()
	now := jsRoundSeconds(a.now())
	line := func(name string, v float64) {
		out.WriteString(name)
		out.WriteString(": ")
		out.Write(appendJSNumber(nil, v))
		out.WriteByte('\n')
	}
	line("uptime", float64(now-f.startup))
	line("messages.last_msg_seen", float64(now-lastMsg))
	line("messages.bad_lines_seen", bad)
	line("graphite.last_flush", float64(now-f.lastFlush))
	line("graphite.last_exception", float64(now-f.lastException))
	line("graphite.flush_time", float64(f.flushTime))
	line("graphite.flush_length", float64(f.flushLength))
	out.WriteString("END\n\n")
}

// del implements delcounters/deltimers/delgauges/delsets: exact names, or
// "prefix.*" for every name starting with "prefix.".
func (a *Admin) del(cmd string, params []string, out *bytes.Buffer, withLoops bool) {
	view, _, _ := a.view(withLoops)
	var names []string
	switch cmd {
	case "delcounters":
		names = liveNames(&view.counters)
	case "deltimers":
		names = liveNames(&view.timers)
	case "delgauges":
		names = liveNames(&view.gauges)
	case "delsets":
		names = liveNames(&view.sets)
	}
	var doomed []string
	for _, p := range params {
		var matches []string
		if slices.Contains(names, p) {
			matches = append(matches, p)
		}
		if strings.HasSuffix(p, ".*") {
			folder := p[:len(p)-1]
			for _, n := range names {
				if strings.HasPrefix(n, folder) {
					matches = append(matches, n)
				}
			}
		}
		if len(matches) == 0 {
			out.WriteString("metric " + p + " not found\n")
		}
		for _, m := range matches {
			out.WriteString("deleted: " + m + "\n")
		}
		doomed = append(doomed, matches...)
	}
	out.WriteString("END\n\n")
	if len(doomed) == 0 {
		return
	}
	kind := map[string]byte{"delcounters": 'c', "deltimers": 'm', "delgauges": 'g', "delsets": 's'}[cmd]
	if a.loops != nil && withLoops {
		a.loops(func(l *Loop) { l.Delete(kind, doomed) })
	}
	f := a.f
	f.mu.Lock()
	for _, n := range doomed {
		switch kind {
		case 'c':
			f.st.counters.del(n)
		case 'm':
			f.st.timers.del(n)
		case 'g':
			f.st.gauges.del(n)
		case 's':
			f.st.sets.del(n)
		}
	}
	f.mu.Unlock()
}

func liveNames[V any](t *table[V]) []string {
	var n []string
	for _, e := range t.ents {
		if e.live {
			n = append(n, e.name)
		}
	}
	return n
}

// writeConfig prints the effective configuration like etsy's
// helpers.writeConfig: "key: value", lists and tables as "key > sub: value".
func (a *Admin) writeConfig(out *bytes.Buffer) {
	c := a.f.cfg
	b := func(v bool) string { return strconv.FormatBool(v) }
	kv := func(k, v string) { out.WriteString(k + ": " + v + "\n") }
	out.WriteString("\n")
	kv("flushInterval", jsNumberString(float64(c.FlushInterval)/1e6))
	for i, p := range c.PercentThreshold {
		kv("percentThreshold > "+strconv.Itoa(i), jsNumberString(p))
	}
	kv("flush_counts", b(c.FlushCounts))
	kv("deleteIdleStats", b(c.DeleteIdleStats))
	kv("deleteCounters", b(a.f.delC))
	kv("deleteTimers", b(a.f.delT))
	kv("deleteGauges", b(a.f.delG))
	kv("deleteSets", b(a.f.delS))
	kv("gaugesMaxTTL", strconv.Itoa(a.f.maxTTL))
	for i, m := range c.CalculatedTimerMetrics {
		kv("calculatedTimerMetrics > "+strconv.Itoa(i), m)
	}
	for i, h := range a.f.hist {
		var bins []string
		for _, bn := range h.bins {
			bins = append(bins, strings.Replace(strings.TrimPrefix(bn.name, "bin_"), "_", ".", 1))
		}
		// etsy prints nested objects as [object Object]; show them readably.
		kv("histogram > "+strconv.Itoa(i), "{metric: "+h.metric+", bins: ["+strings.Join(bins, ",")+"]}")
	}
	kv("keyNameSanitize", b(c.KeyNameSanitize))
	kv("prefixStats", c.PrefixStats)
	g := c.Graphite
	kv("graphite > legacyNamespace", b(g.LegacyNamespace))
	kv("graphite > globalPrefix", g.GlobalPrefix)
	kv("graphite > prefixCounter", g.PrefixCounter)
	kv("graphite > prefixTimer", g.PrefixTimer)
	kv("graphite > prefixGauge", g.PrefixGauge)
	kv("graphite > prefixSet", g.PrefixSet)
	kv("graphite > globalSuffix", g.GlobalSuffix)
}
