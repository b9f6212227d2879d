package tuning

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// byteFlag is a flag.Value holding a size parsed by ParseBytes.
type byteFlag struct{ v *int64 }

func (b byteFlag) String() string {
	if b.v == nil || *b.v == 0 {
		return ""
	}
	return FormatBytes(*b.v)
}

func (b byteFlag) Set(s string) error {
	v, err := ParseBytes(s)
	if err != nil {
		return err
	}
	*b.v = v
	return nil
}

// RegisterOverrideFlags adds the override flags (--event-loops,
// --storage-shards, ...) to fs, writing into o. serve registers the same set.
func RegisterOverrideFlags(fs *flag.FlagSet, o *Overrides) {
	fs.Var(byteFlag{&o.MemoryBudget}, "memory-budget", "memory Plumbago may use in all, e.g. 6GiB; sets GOMEMLIMIT (85%) and every size below (0 = the machine's or cgroup's memory)")
	fs.IntVar(&o.EventLoops, "event-loops", 0, "gnet event loops (0 = derive)")
	fs.IntVar(&o.StorageShards, "storage-shards", 0, "storage shards (0 = derive)")
	fs.IntVar(&o.QueueChunks, "queue-chunks", 0, "chunks per loop-to-shard queue (0 = derive)")
	var wb, srb int64
	fs.Func("write-buffer", "write buffer memory budget, e.g. 512MiB (0 = derive)", func(s string) error {
		if err := (byteFlag{&wb}).Set(s); err != nil {
			return err
		}
		o.WriteBufferBytes = int(wb)
		return nil
	})
	fs.Func("socket-recv-buffer", "UDP SO_RCVBUF, e.g. 16MiB (0 = derive)", func(s string) error {
		if err := (byteFlag{&srb}).Set(s); err != nil {
			return err
		}
		o.SocketRecvBuffer = int(srb)
		return nil
	})
	fs.Var(byteFlag{&o.GoMemLimit}, "gomemlimit", "Go soft memory limit, e.g. 6GiB (0 = derive)")
	fs.Var(byteFlag{&o.PebbleCacheBytes}, "pebble-cache", "pebble block cache size (0 = derive)")
	fs.Var(byteFlag{&o.PebbleMemTableBytes}, "pebble-memtable", "pebble memtable size (0 = derive)")
	fs.IntVar(&o.MaxIngestConns, "max-ingest-conns", 0, "open ingest TCP connections, all listeners together (0 = derive)")
	fs.IntVar(&o.MaxHTTPConns, "max-http-conns", 0, "open HTTP API connections (0 = derive)")
	fs.Var(byteFlag{&o.QueryMemoryBytes}, "query-memory-budget", "memory concurrent renders may hold, e.g. 1GiB (0 = derive)")
}

// Main implements `plumbago tune`: it detects the machine (or takes a
// profile), derives the plan, checks the kernel and prints what to apply.
func Main(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tune", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var o Overrides
	dataDir := fs.String("data-dir", "./data", "data directory whose volume is checked")
	fs.StringVar(&o.Backend, "backend", "pebble", "pebble or whisper")
	profile := fs.String("profile", "", "size for an instance type instead of this machine: "+strings.Join(ProfileNames(), ", "))
	cpus := fs.Int("cpus", 0, "size for this many CPUs instead of the detected count")
	var mem int64
	fs.Var(byteFlag{&mem}, "memory", "size for this much memory instead of the detected amount, e.g. 8GiB")
	asJSON := fs.Bool("json", false, "print the plan and checks as JSON")
	RegisterOverrideFlags(fs, &o)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Backend != "pebble" && o.Backend != "whisper" {
		return fmt.Errorf("tune: unknown backend %q (want pebble or whisper)", o.Backend)
	}

	var m Machine
	if *profile != "" {
		p, ok := Profiles[*profile]
		if !ok {
			return fmt.Errorf("tune: unknown profile %q (have %s)", *profile, strings.Join(ProfileNames(), ", "))
		}
		m = p.Machine()
	} else {
		var err error
		if m, err = Detect(); err != nil {
			return fmt.Errorf("tune: detecting machine: %w", err)
		}
	}
	if *cpus > 0 {
		m.CPUs, m.CPUSource = *cpus, "--cpus"
	}
	if mem > 0 {
		m.MemoryBytes, m.MemorySource = mem, "--memory"
	}
	env := ReadEnvironment(*dataDir)
	if *profile == "" {
		if v, err := env.Sysctl("net.core.rmem_max"); err == nil {
			m.RmemMax = v
		}
	}
	plan := Derive(m, o)
	checks := CheckKernel(plan, env)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Machine Machine
			Plan    Plan
			Checks  []Check
		}{m, plan, checks})
	}
	return Print(stdout, m, plan, checks)
}

// Print writes the human-readable tune report.
func Print(w io.Writer, m Machine, p Plan, checks []Check) error {
	fmt.Fprintf(w, "machine: %s, %d CPUs (%s), %s memory (%s)\n\n", m.Name, m.CPUs, m.CPUSource, FormatBytes(m.MemoryBytes), m.MemorySource)
	fmt.Fprintf(w, "plan for the %s backend (serve uses the same; override with the flag shown):\n", p.Backend)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rows := []struct{ name, flag, val string }{
		{"memory budget", "--memory-budget", FormatBytes(p.MemoryBudget)},
		{"event loops", "--event-loops", fmt.Sprint(p.EventLoops)},
		{"storage shards", "--storage-shards", fmt.Sprint(p.StorageShards)},
		{"queue chunks", "--queue-chunks", fmt.Sprint(p.QueueChunks)},
		{"write buffer", "--write-buffer", FormatBytes(int64(p.WriteBufferBytes))},
		{"pebble cache", "--pebble-cache", FormatBytes(p.PebbleCacheBytes)},
		{"pebble memtable", "--pebble-memtable", FormatBytes(p.PebbleMemTableBytes)},
		{"GOMEMLIMIT", "--gomemlimit", FormatBytes(p.GoMemLimit)},
		{"socket recv buffer", "--socket-recv-buffer", FormatBytes(int64(p.SocketRecvBuffer))},
		{"statsd timer samples", "timerSampleBudget", fmt.Sprint(p.StatsdTimerSamples)},
		{"query memory", "--query-memory-budget", FormatBytes(p.QueryMemoryBytes)},
		{"ingest connections", "--max-ingest-conns", fmt.Sprint(p.MaxIngestConns)},
		{"http connections", "--max-http-conns", fmt.Sprint(p.MaxHTTPConns)},
	}
	for _, r := range rows {
		reason := ""
		for _, line := range p.Reasons {
			if rest, ok := strings.CutPrefix(line, r.name+": "); ok {
				reason = rest
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.name, r.val, r.flag, reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nkernel and volume:\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var sysctl, other []string
	for _, c := range checks {
		status := "ok"
		if !c.OK {
			status = "CHANGE"
			if strings.Contains(c.Fix, " = ") {
				sysctl = append(sysctl, c.Fix)
			} else {
				other = append(other, c.Fix)
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\twant %s\t%s\n", status, c.Name, c.Current, c.Want, c.Why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(sysctl) > 0 {
		fmt.Fprintf(w, "\n# /etc/sysctl.d/60-plumbago.conf, then: sysctl --system\n%s\n", strings.Join(sysctl, "\n"))
	}
	if len(other) > 0 {
		fmt.Fprintf(w, "\n# also:\n%s\n", strings.Join(other, "\n"))
	}
	if len(sysctl) == 0 && len(other) == 0 {
		fmt.Fprintf(w, "\nnothing to change.\n")
	}
	return nil
}
