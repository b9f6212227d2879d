package main

import (
	"flag"
	"io"
	"strings"

	"github.com/plumbago/plumbago/tuning"
)

// runTune implements `plumbago tune`: the machine (or a profile), the
// sizes derived for it with serve's override flags applied, and the kernel
// settings to change (tuning.Report).
func runTune(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tune", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var c Config
	var mem ByteSize
	r := tuning.Request{}
	fs.StringVar(&r.DataDir, "data-dir", "./data", "data directory whose volume is checked")
	fs.StringVar(&c.Backend, "backend", "pebble", "pebble, whisper or clickhouse")
	fs.StringVar(&r.Profile, "profile", "", "size for an instance type instead of this machine: "+strings.Join(tuning.ProfileNames(), ", "))
	fs.IntVar(&r.CPUs, "cpus", 0, "size for this many CPUs instead of the detected count")
	fs.Var(&mem, "memory", "size for this much memory instead of the detected amount, e.g. 8GiB")
	fs.BoolVar(&r.JSON, "json", false, "print the plan and checks as JSON")
	tuningFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		return err
	}
	r.Memory = int64(mem)
	r.Overrides = c.overrides()
	return tuning.Report(stdout, r)
}
