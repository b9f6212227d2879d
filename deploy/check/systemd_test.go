package check

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/plumbago/plumbago/internal/testenv"
)

// unitFile is a systemd unit: section -> key -> values in order.
type unitFile map[string]map[string][]string

func parseUnit(t *testing.T, path string) unitFile {
	t.Helper()
	u := unitFile{}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	section := ""
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not key=value in a section: %q", path, n, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

func (u unitFile) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func TestSystemdUnit(t *testing.T) {
	path := deployPath(t, "systemd", "plumbago.service")
	u := parseUnit(t, path)
	for _, kv := range [][3]string{
		{"Service", "Restart", "on-failure"},
		{"Service", "KillSignal", "SIGTERM"},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "ProtectSystem", "strict"},
		{"Service", "ProtectHome", "yes"},
		{"Service", "PrivateTmp", "yes"},
		{"Service", "PrivateDevices", "yes"},
		{"Service", "CapabilityBoundingSet", ""},
		{"Service", "SystemCallFilter", "@system-service"},
		{"Unit", "RequiresMountsFor", "/data"},
		{"Install", "WantedBy", "multi-user.target"},
	} {
		if got, ok := u[kv[0]][kv[1]]; !ok || got[len(got)-1] != kv[2] {
			t.Errorf("[%s] %s = %q, want %q", kv[0], kv[1], got, kv[2])
		}
	}
	if u.get("Service", "ProcSubset") == "pid" {
		t.Error("ProcSubset=pid hides /proc/meminfo, which plumbago reads to size its buffers")
	}
	if user := u.get("Service", "User"); user == "" || user == "root" {
		t.Errorf("User=%q: want an unprivileged user", user)
	}
	if n, err := strconv.Atoi(u.get("Service", "LimitNOFILE")); err != nil || n < 65536 {
		t.Errorf("LimitNOFILE=%q: want >= 65536", u.get("Service", "LimitNOFILE"))
	}
	if d, err := time.ParseDuration(u.get("Service", "TimeoutStopSec") + "s"); err != nil || d < 30*time.Second {
		t.Errorf("TimeoutStopSec=%q: want >= 30 s for the SIGTERM drain", u.get("Service", "TimeoutStopSec"))
	}
	if u.get("Unit", "StartLimitIntervalSec") == "" || u.get("Unit", "StartLimitBurst") == "" {
		t.Error("no StartLimitIntervalSec/StartLimitBurst in [Unit]")
	}

	// ExecStart runs serve with the shipped config; the only writable path
	// is that config's data-dir, which lies on the /data mount.
	exec0 := strings.Fields(u.get("Service", "ExecStart"))
	if len(exec0) < 4 || exec0[1] != "serve" || exec0[2] != "--config" {
		t.Fatalf("ExecStart=%q: want plumbago serve --config <file>", u.get("Service", "ExecStart"))
	}
	var cfg map[string]any
	if _, err := toml.DecodeFile(deployPath(t, "systemd", "plumbago.toml"), &cfg); err != nil {
		t.Fatal(err)
	}
	dataDir, _ := cfg["data-dir"].(string)
	if rw := u[("Service")]["ReadWritePaths"]; !slices.Equal(rw, []string{dataDir}) {
		t.Errorf("ReadWritePaths=%v, want exactly the config's data-dir %q", rw, dataDir)
	}
	if !strings.HasPrefix(dataDir, "/data/") {
		t.Errorf("data-dir %q is not on the /data volume", dataDir)
	}
	if pre := u.get("Service", "ExecStartPre"); !strings.Contains(pre, "check-config --config "+exec0[3]) {
		t.Errorf("ExecStartPre=%q: want check-config on the same config", pre)
	}
}

// TestSystemdConfigAccepted runs the real `plumbago check-config` on the
// shipped TOML file: every key in it must be one plumbago knows.
func TestSystemdConfigAccepted(t *testing.T) {
	bin := filepath.Join(builtOut(t), "plumbago")
	out, err := exec.Command(bin, "check-config", "--config", deployPath(t, "systemd", "plumbago.toml")).CombinedOutput()
	if err != nil {
		t.Fatalf("check-config: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "config ok: backend pebble, data /data/plumbago") {
		t.Errorf("check-config said:\n%s", out)
	}
}

// TestSystemdAnalyzeVerify runs systemd's own checker where installed, on a
// copy of the unit whose binary path points at the freshly built binary.
func TestSystemdAnalyzeVerify(t *testing.T) {
	testenv.Command(t, "systemd-analyze", "apt systemd")
	bin := filepath.Join(builtOut(t), "plumbago")
	unit := strings.ReplaceAll(string(readFile(t, deployPath(t, "systemd", "plumbago.service"))), "/usr/local/bin/plumbago", bin)
	dir := t.TempDir()
	p := filepath.Join(dir, "plumbago.service")
	if err := os.WriteFile(p, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", p).CombinedOutput()
	// verify also loads the units ours depends on and reports their
	// problems; only lines about our file count.
	var ours []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "plumbago.service") {
			ours = append(ours, l)
		}
	}
	if err != nil || len(ours) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, strings.Join(ours, "\n"))
	}
}
