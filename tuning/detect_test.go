package tuning

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, body := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const meminfo16G = "MemTotal:       16384000 kB\nMemFree:         1000 kB\n"

func TestDetectFrom(t *testing.T) {
	cases := []struct {
		name     string
		affinity int
		files    map[string]string
		want     Machine
	}{
		{"bare host", 8, map[string]string{
			"proc/meminfo": meminfo16G, "proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "max 100000\n",
			"sys/fs/cgroup/memory.max": "max\n", "proc/sys/net/core/rmem_max": "212992\n"},
			Machine{Name: "detected", CPUs: 8, MemoryBytes: 16384000 * 1024, CPUSource: "affinity mask", MemorySource: "/proc/meminfo", RmemMax: 212992}},
		{"cgroup v2 quota 1.5 CPUs, 2 GiB", 8, map[string]string{
			"proc/meminfo": meminfo16G, "proc/self/cgroup": "0::/system.slice/plumbago.service\n",
			"sys/fs/cgroup/system.slice/plumbago.service/cpu.max":    "150000 100000\n",
			"sys/fs/cgroup/system.slice/plumbago.service/memory.max": "2147483648\n"},
			Machine{Name: "detected", CPUs: 2, MemoryBytes: 2 * GiB, CPUSource: "cgroup v2 cpu.max", MemorySource: "cgroup v2 memory.max"}},
		{"cgroup v2 limit on the parent slice", 8, map[string]string{
			"proc/meminfo": meminfo16G, "proc/self/cgroup": "0::/docker/abc\n",
			"sys/fs/cgroup/docker/abc/cpu.max": "max 100000\n", "sys/fs/cgroup/docker/cpu.max": "300000 100000\n",
			"sys/fs/cgroup/docker/memory.max": "1073741824\n"},
			Machine{Name: "detected", CPUs: 3, MemoryBytes: 1 * GiB, CPUSource: "cgroup v2 cpu.max", MemorySource: "cgroup v2 memory.max"}},
		{"cgroup v1", 4, map[string]string{
			"proc/meminfo":     meminfo16G,
			"proc/self/cgroup": "12:memory:/docker/x\n5:cpu,cpuacct:/docker/x\n",
			"sys/fs/cgroup/cpu,cpuacct/docker/x/cpu.cfs_quota_us":  "50000\n",
			"sys/fs/cgroup/cpu,cpuacct/docker/x/cpu.cfs_period_us": "100000\n",
			"sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes":  "536870912\n"},
			Machine{Name: "detected", CPUs: 1, MemoryBytes: 512 * MiB, CPUSource: "cgroup v1 cpu.cfs_quota_us", MemorySource: "cgroup v1 memory.limit_in_bytes"}},
		{"cgroup v1 unlimited", 4, map[string]string{
			"proc/meminfo":     meminfo16G,
			"proc/self/cgroup": "12:memory:/\n5:cpu,cpuacct:/\n",
			"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  "-1\n",
			"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes":  "9223372036854771712\n"},
			Machine{Name: "detected", CPUs: 4, MemoryBytes: 16384000 * 1024, CPUSource: "affinity mask", MemorySource: "/proc/meminfo"}},
		{"quota above affinity keeps affinity", 2, map[string]string{
			"proc/meminfo": meminfo16G, "proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "400000 100000\n"},
			Machine{Name: "detected", CPUs: 2, MemoryBytes: 16384000 * 1024, CPUSource: "affinity mask", MemorySource: "/proc/meminfo"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, c.files)
			got, err := detectFrom(root, c.affinity)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestDetectFromNoMeminfo(t *testing.T) {
	if _, err := detectFrom(t.TempDir(), 2); err == nil {
		t.Fatal("want an error without /proc/meminfo")
	}
}

func TestDetectRealMachine(t *testing.T) {
	m, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	if m.CPUs < 1 || m.MemoryBytes <= 0 {
		t.Fatalf("implausible machine %+v", m)
	}
}

func sysctls(v map[string]int64) func(string) (int64, error) {
	return func(n string) (int64, error) {
		x, ok := v[n]
		if !ok {
			return 0, errors.New("missing")
		}
		return x, nil
	}
}

func TestCheckKernel(t *testing.T) {
	p := Derive(Profiles["c5.xlarge"].Machine(), Overrides{Backend: "whisper"})
	env := Environment{
		Sysctl: sysctls(map[string]int64{
			"net.core.rmem_max": 212992, "net.core.rmem_default": 212992, "net.core.somaxconn": 4096,
			"net.core.netdev_max_backlog": 1000, "vm.dirty_background_ratio": 10, "vm.dirty_ratio": 20,
			"vm.dirty_expire_centisecs": 3000}),
		NoFileSoft: 1024, NoFileHard: 4096,
		Volume: &Volume{Path: "/var/lib/plumbago", FSType: "overlayfs", FreeBytes: 500 * MiB, TotalBytes: 100 * GiB, FreeInodes: 10},
	}
	got := CheckKernel(p, env)
	type row struct {
		name, current string
		ok            bool
		fix           string
	}
	want := []row{
		{"net.core.rmem_max", "212992", false, "net.core.rmem_max = 33554432"},
		{"net.core.rmem_default", "212992", false, "net.core.rmem_default = 1048576"},
		{"net.core.somaxconn", "4096", true, ""},
		{"net.core.netdev_max_backlog", "1000", false, "net.core.netdev_max_backlog = 16384"},
		{"fs.file-max", "unknown", false, "fs.file-max = 1048576"},
		{"vm.dirty_background_ratio", "10", false, "vm.dirty_background_ratio = 20"},
		{"vm.dirty_ratio", "20", false, "vm.dirty_ratio = 40"},
		{"vm.dirty_expire_centisecs", "3000", true, ""},
		{"ulimit -n (RLIMIT_NOFILE)", "1024 (hard 4096)", false, "ulimit -n 65536   # systemd: LimitNOFILE=65536"},
		{"data volume filesystem", "overlayfs at /var/lib/plumbago", false, "mount a volume at the data directory (docker -v / compose volumes:)"},
		{"data volume free space", "500 MiB of 100 GiB", false, "grow the data volume or lower retention"},
		{"data volume free inodes", "10", false, "make the filesystem with more inodes (mkfs.ext4 -i 8192) or use xfs"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d checks, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if (row{g.Name, g.Current, g.OK, g.Fix}) != w {
			t.Errorf("check %d: got %+v, want %+v", i, row{g.Name, g.Current, g.OK, g.Fix}, w)
		}
	}

	// pebble on a healthy box: only informational dirty-page rows, all ok.
	p = Derive(Profiles["c5.xlarge"].Machine(), Overrides{})
	env = Environment{
		Sysctl: sysctls(map[string]int64{
			"net.core.rmem_max": 64 << 20, "net.core.rmem_default": 1 << 20, "net.core.somaxconn": 65535,
			"net.core.netdev_max_backlog": 30000, "fs.file-max": 1 << 21, "vm.dirty_background_ratio": 10, "vm.dirty_ratio": 20}),
		NoFileSoft: 1 << 20, NoFileHard: 1 << 20,
		Volume: &Volume{Path: "/data", FSType: "xfs", FreeBytes: 50 * GiB, TotalBytes: 100 * GiB, FreeInodes: 1},
	}
	for _, c := range CheckKernel(p, env) {
		if !c.OK {
			t.Errorf("healthy pebble box: %+v not ok", c)
		}
	}
}

func TestStatVolume(t *testing.T) {
	dir := t.TempDir()
	v, err := StatVolume(filepath.Join(dir, "not", "yet", "made"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Path != dir || v.TotalBytes <= 0 || v.FSType == "" {
		t.Fatalf("StatVolume = %+v, want the temp dir's filesystem", v)
	}
}
