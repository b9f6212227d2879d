package loadtest

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's utime and stime; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// procCPUSeconds returns the user+system CPU time of process pid.
func procCPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading server stats: %w", err)
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 (1-based), i.e. 12 and 13 after ")".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("reading server stats: bad /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 14 {
		return 0, fmt.Errorf("reading server stats: short /proc/%d/stat", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("reading server stats: bad times in /proc/%d/stat", pid)
	}
	return float64(u+s) / clockTicks, nil
}

// procRSS returns the current and peak resident set size of process pid.
func procRSS(pid int) (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("reading server memory: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) < 1 {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if k == "VmRSS" {
			rss = kb * 1024
		} else {
			peak = kb * 1024
		}
	}
	return rss, peak, nil
}

// diskUsage returns the bytes allocated on disk (st_blocks × 512, as du
// counts them) by the files under dir.
func diskUsage(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			if os.IsNotExist(err) {
				return nil // removed while walking (compaction, rotation)
			}
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("measuring disk usage of %q: %w", dir, err)
	}
	return total, nil
}

// udpRcvbufErrors returns the kernel's count of UDP datagrams dropped because
// a socket's receive buffer was full (/proc/net/snmp Udp: RcvbufErrors),
// system-wide and summed over IPv4 and IPv6.
func udpRcvbufErrors() (int64, error) {
	var total int64
	found := false
	for _, path := range []string{"/proc/net/snmp", "/proc/net/snmp6"} {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		v, ok := parseRcvbufErrors(string(b))
		if ok {
			total += v
			found = true
		}
	}
	if !found {
		return 0, fmt.Errorf("reading UDP drop counters: no RcvbufErrors in /proc/net/snmp")
	}
	return total, nil
}

// parseRcvbufErrors reads RcvbufErrors from /proc/net/snmp's header/value
// line pairs ("Udp: InDatagrams ... RcvbufErrors ..." then the numbers) or
// /proc/net/snmp6's "Udp6RcvbufErrors N" lines.
func parseRcvbufErrors(text string) (int64, bool) {
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "Udp6RcvbufErrors" {
			v, err := strconv.ParseInt(f[1], 10, 64)
			return v, err == nil
		}
		if len(f) > 1 && f[0] == "Udp:" && i+1 < len(lines) {
			vals := strings.Fields(lines[i+1])
			if len(vals) != len(f) || vals[0] != "Udp:" {
				continue
			}
			for k, name := range f {
				if name == "RcvbufErrors" {
					v, err := strconv.ParseInt(vals[k], 10, 64)
					return v, err == nil
				}
			}
		}
	}
	return 0, false
}
