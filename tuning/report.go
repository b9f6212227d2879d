package tuning

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Request is what `plumbago tune` asks for (cmd/plumbago parses its flags).
type Request struct {
	DataDir string // data directory whose volume is checked
	Profile string // an instance type to size for instead of this machine ("" = detect)
	CPUs    int    // size for this many CPUs instead of the detected count (0 = detected)
	Memory  int64  // size for this much memory instead of the detected amount (0 = detected)
	JSON    bool   // print the plan and checks as JSON
	// FlushSeconds is serve's --flush-interval in seconds, for the
	// clickhouse backend's insert rate (0 = the default, 1 s).
	FlushSeconds float64
	Overrides    Overrides // the sizes fixed by the operator, and the backend
}

// Report detects the machine (or takes a profile), derives the plan,
// checks the kernel and prints what to apply.
func Report(stdout io.Writer, r Request) error {
	o := r.Overrides
	if o.Backend != "pebble" && o.Backend != "whisper" && o.Backend != "clickhouse" {
		return fmt.Errorf("tune: unknown backend %q (want pebble, whisper or clickhouse)", o.Backend)
	}
	var m Machine
	if r.Profile != "" {
		p, ok := Profiles[r.Profile]
		if !ok {
			return fmt.Errorf("tune: unknown profile %q (have %s)", r.Profile, strings.Join(ProfileNames(), ", "))
		}
		m = p.Machine()
	} else {
		var err error
		if m, err = Detect(); err != nil {
			return fmt.Errorf("tune: detecting machine: %w", err)
		}
	}
	if r.CPUs > 0 {
		m.CPUs, m.CPUSource = r.CPUs, "--cpus"
	}
	if r.Memory > 0 {
		m.MemoryBytes, m.MemorySource = r.Memory, "--memory"
	}
	env := ReadEnvironment(r.DataDir)
	if env.Volume != nil && o.VolumeBytes == 0 {
		o.VolumeBytes = env.Volume.TotalBytes
	}
	if r.Profile == "" {
		if v, err := env.Sysctl("net.core.rmem_max"); err == nil {
			m.RmemMax = v
		}
	}
	plan := Derive(m, o)
	checks := CheckKernel(plan, env)
	var server []ServerSetting
	if plan.Backend == "clickhouse" {
		server = ClickHouseServer(plan, r.FlushSeconds)
	}
	if r.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Machine          Machine
			Plan             Plan
			Checks           []Check
			ClickHouseServer []ServerSetting `json:",omitempty"`
		}{m, plan, checks, server})
	}
	if err := Print(stdout, m, plan, checks); err != nil {
		return err
	}
	return printServer(stdout, server)
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
		{"pebble WAL prealloc", "-", FormatBytes(p.PebbleWALPreallocBytes)},
		{"free-disk reserve", "--min-free-disk-space", FormatBytes(p.MinFreeDiskBytes)},
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

// printServer writes the ClickHouse server settings the clickhouse
// backend wants (not checked from here: they live on the servers).
func printServer(w io.Writer, settings []ServerSetting) error {
	if len(settings) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nClickHouse servers (set there; not checked from here):\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range settings {
		fmt.Fprintf(tw, "  %s\t%s\twant %s\t%s\n", s.Where, s.Name, s.Want, s.Why)
	}
	return tw.Flush()
}
