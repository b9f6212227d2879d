package tuning

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// Detect reads the machine Plumbago runs on: runtime.NumCPU (the affinity
// mask) capped by a cgroup v2 or v1 CPU quota, MemTotal from /proc/meminfo
// capped by the cgroup memory limit, and the RLIMIT_NOFILE soft limit.
func Detect() (Machine, error) {
	m, err := detectFrom("/", runtime.NumCPU())
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil {
		m.NoFile = int64(min(rl.Cur, 1<<40))
	}
	return m, err
}

// detectFrom is Detect with the filesystem root and the affinity CPU count
// given, so tests can lay out /proc and /sys/fs/cgroup in a temporary dir.
func detectFrom(root string, affinityCPUs int) (Machine, error) {
	m := Machine{Name: "detected", CPUs: affinityCPUs, CPUSource: "affinity mask"}
	memTotal, err := readMemTotal(filepath.Join(root, "proc/meminfo"))
	if err != nil {
		return m, err
	}
	m.MemoryBytes, m.MemorySource = memTotal, "/proc/meminfo"

	cg := readCgroupPaths(filepath.Join(root, "proc/self/cgroup"))
	sysCg := filepath.Join(root, "sys/fs/cgroup")

	// cgroup v2: unified hierarchy, walk from our cgroup up to the root.
	if p, ok := cg[""]; ok {
		for _, dir := range ancestors(sysCg, p) {
			if q, ok := readCPUMax(filepath.Join(dir, "cpu.max")); ok && q < float64(m.CPUs) {
				m.CPUs, m.CPUSource = int(math.Ceil(q)), "cgroup v2 cpu.max"
			}
			if l, ok := readLimit(filepath.Join(dir, "memory.max")); ok && l < m.MemoryBytes {
				m.MemoryBytes, m.MemorySource = l, "cgroup v2 memory.max"
			}
		}
	}
	// cgroup v1.
	if p, ok := cgroupV1(cg, "cpu"); ok {
		for _, base := range []string{"cpu,cpuacct", "cpu"} {
			for _, dir := range ancestors(filepath.Join(sysCg, base), p) {
				quota, ok1 := readInt(filepath.Join(dir, "cpu.cfs_quota_us"))
				period, ok2 := readInt(filepath.Join(dir, "cpu.cfs_period_us"))
				if ok1 && ok2 && quota > 0 && period > 0 {
					if q := float64(quota) / float64(period); q < float64(m.CPUs) {
						m.CPUs, m.CPUSource = int(math.Ceil(q)), "cgroup v1 cpu.cfs_quota_us"
					}
				}
			}
		}
	}
	if p, ok := cgroupV1(cg, "memory"); ok {
		for _, dir := range ancestors(filepath.Join(sysCg, "memory"), p) {
			// v1 reports "no limit" as a huge page-aligned number.
			if l, ok := readLimit(filepath.Join(dir, "memory.limit_in_bytes")); ok && l < m.MemoryBytes {
				m.MemoryBytes, m.MemorySource = l, "cgroup v1 memory.limit_in_bytes"
			}
		}
	}
	if m.CPUs < 1 {
		m.CPUs = 1
	}
	if v, ok := readInt(filepath.Join(root, "proc/sys/net/core/rmem_max")); ok {
		m.RmemMax = v
	}
	return m, nil
}

func readMemTotal(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("reading memory size %q: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("reading memory size %q: %w", path, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("reading memory size %q: no MemTotal line", path)
}

// readCgroupPaths maps controller name to path from /proc/self/cgroup. The v2
// entry ("0::/path") is under the key "".
func readCgroupPaths(path string) map[string]string {
	out := map[string]string{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			out[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out
}

func cgroupV1(cg map[string]string, controller string) (string, bool) {
	p, ok := cg[controller]
	return p, ok
}

// ancestors lists base/p and each of its parents up to base itself. Inside a
// cgroup namespace the path may not exist under base; then base alone is used.
func ancestors(base, p string) []string {
	var dirs []string
	p = filepath.Clean("/" + p)
	for {
		dirs = append(dirs, filepath.Join(base, p))
		if p == "/" {
			break
		}
		p = filepath.Dir(p)
	}
	return dirs
}

// readCPUMax parses cgroup v2 cpu.max: "max 100000" or "150000 100000".
func readCPUMax(path string) (float64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 || f[0] == "max" {
		return 0, false
	}
	q, err1 := strconv.ParseFloat(f[0], 64)
	per, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || q <= 0 || per <= 0 {
		return 0, false
	}
	return q / per, true
}

// readLimit reads a memory limit; "max" and v1's unlimited sentinel
// (>= 2^62) mean no limit.
func readLimit(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	s := string(bytes.TrimSpace(b))
	if s == "max" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 || v >= 1<<62 {
		return 0, false
	}
	return v, true
}

func readInt(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	return v, err == nil
}
