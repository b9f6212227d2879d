package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/tuning"
)

func TestTuneProfile(t *testing.T) {
	var out bytes.Buffer
	err := run([]string{"tune", "--profile", "c3.xlarge", "--backend", "whisper", "--data-dir", t.TempDir(), "--storage-shards", "16"}, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"machine: c3.xlarge, 4 CPUs (profile c3.xlarge), 7.5 GiB memory (profile c3.xlarge)",
		"plan for the whisper backend",
		"storage shards        16",
		"set by override",
		"write buffer          1.9 GiB",
		"memory budget         7.5 GiB  --memory-budget        all of the memory the machine gives the process (profile c3.xlarge)",
		"statsd timer samples  1048576  timerSampleBudget",
		"query memory          1.9 GiB  --query-memory-budget  1/4 of the memory budget",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestTuneJSON(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"tune", "--cpus", "3", "--memory", "6GiB", "--json", "--data-dir", t.TempDir()}, &out, &out); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Machine tuning.Machine
		Plan    tuning.Plan
		Checks  []tuning.Check
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Plan.EventLoops != 3 || r.Plan.StorageShards != 4 || r.Plan.PebbleCacheBytes != 1536*tuning.MiB || len(r.Checks) == 0 {
		t.Fatalf("unexpected plan %+v", r.Plan)
	}
}

// TestTuneMemoryBudget: --memory-budget sizes the plan instead of the machine.
func TestTuneMemoryBudget(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"tune", "--profile", "c5.large", "--memory-budget", "2GiB", "--data-dir", t.TempDir()}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"memory budget         2 GiB", "GOMEMLIMIT            1.7 GiB", "query memory          512 MiB", "write buffer          256 MiB"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--memory-budget 2GiB: output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestTuneErrors(t *testing.T) {
	for _, args := range [][]string{{"--profile", "m1.small"}, {"--backend", "ceres"}, {"--memory", "lots"}} {
		if err := run(append([]string{"tune"}, args...), &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("tune %q = nil, want an error", args)
		}
	}
}

// TestTuneClickHouse: tune --backend clickhouse sizes for it and names the
// ClickHouse server settings.
func TestTuneClickHouse(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"tune", "--backend", "clickhouse", "--profile", "c5.xlarge", "--data-dir", t.TempDir()}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"plan for the clickhouse backend", "write buffer          2 GiB", "not used by the clickhouse backend",
		"each node makes up to 4.0 INSERTs a second (4 shards every 1s)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
