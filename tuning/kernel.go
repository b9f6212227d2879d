package tuning

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Check is one kernel or volume setting compared with what Plumbago wants.
type Check struct {
	Name    string // e.g. "net.core.rmem_max"
	Current string // what the machine has ("unknown" if unreadable)
	Want    string // what Plumbago wants, e.g. ">= 33554432"
	OK      bool
	Why     string
	// Fix is the line to apply when !OK: a sysctl.conf line, a ulimit
	// command or advice.
	Fix string
}

// sysctlCheck compares an integer sysctl with a minimum.
type sysctlCheck struct {
	name string
	min  int64
	why  string
}

// Environment is what CheckKernel reads, separated out so tests can supply it.
type Environment struct {
	// Sysctl returns a sysctl's value by dotted name.
	Sysctl func(name string) (int64, error)
	// NoFile is the soft and hard RLIMIT_NOFILE.
	NoFileSoft, NoFileHard uint64
	// Volume describes the data directory's filesystem; nil if unknown.
	Volume *Volume
}

// Volume is the filesystem holding the data directory.
type Volume struct {
	Path       string
	FSType     string
	FreeBytes  int64
	TotalBytes int64
	FreeInodes int64
}

// ReadEnvironment reads the sysctls under /proc/sys, the process's file
// limit and the data directory's filesystem (the nearest existing ancestor of
// dataDir).
func ReadEnvironment(dataDir string) Environment {
	env := Environment{Sysctl: procSysctl("/proc/sys")}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil {
		env.NoFileSoft, env.NoFileHard = rl.Cur, rl.Max
	}
	if v, err := StatVolume(dataDir); err == nil {
		env.Volume = &v
	}
	return env
}

func procSysctl(root string) func(string) (int64, error) {
	return func(name string) (int64, error) {
		b, err := os.ReadFile(filepath.Join(root, dotsToSlashes(name)))
		if err != nil {
			return 0, fmt.Errorf("reading sysctl %q: %w", name, err)
		}
		v, err := strconv.ParseInt(string(trimSpace(b)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("reading sysctl %q: %w", name, err)
		}
		return v, nil
	}
}

func dotsToSlashes(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == '.' {
			b[i] = '/'
		}
	}
	return string(b)
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// StatVolume describes the filesystem holding path, or its nearest existing
// ancestor when path does not exist yet.
func StatVolume(path string) (Volume, error) {
	p, err := filepath.Abs(path)
	if err != nil {
		return Volume{}, fmt.Errorf("resolving data dir %q: %w", path, err)
	}
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(p, &st)
		if err == nil {
			bs := int64(st.Bsize)
			return Volume{Path: p, FSType: fsName(int64(st.Type)),
				FreeBytes: int64(st.Bavail) * bs, TotalBytes: int64(st.Blocks) * bs,
				FreeInodes: int64(st.Ffree)}, nil
		}
		if !errors.Is(err, syscall.ENOENT) || p == "/" {
			return Volume{}, fmt.Errorf("statfs %q: %w", p, err)
		}
		p = filepath.Dir(p)
	}
}

func fsName(magic int64) string {
	switch magic {
	case 0xEF53:
		return "ext4"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x01021994:
		return "tmpfs"
	case 0x794C7630:
		return "overlayfs"
	case 0x2FC12FC1:
		return "zfs"
	case 0x6969:
		return "nfs"
	case 0xFF534D42, 0xFE534D42:
		return "cifs"
	case 0x65735546:
		return "fuse"
	}
	return fmt.Sprintf("0x%x", magic)
}

// CheckKernel compares env with what plan p needs and returns one Check per
// setting, in a fixed order.
func CheckKernel(p Plan, env Environment) []Check {
	whisper := p.Backend == "whisper"
	sysctls := []sysctlCheck{
		{"net.core.rmem_max", int64(p.SocketRecvBuffer), "caps SO_RCVBUF: UDP statsd/carbon bursts beyond it are dropped by the kernel"},
		{"net.core.rmem_default", 1 << 20, "receive buffer of sockets that do not ask, including accepted TCP connections' starting size"},
		{"net.core.somaxconn", 4096, "accept backlog: a reconnect storm of relays or statsd-over-TCP clients must not be refused"},
		{"net.core.netdev_max_backlog", 16384, "packets queued between the NIC and the stack when a CPU is busy"},
		{"fs.file-max", 1 << 20, "system-wide open files"},
	}
	if whisper {
		sysctls = append(sysctls,
			sysctlCheck{"vm.dirty_background_ratio", 20, "whisper rewrites the same 4 KiB pages; letting them stay dirty longer lets the kernel coalesce writes"},
			sysctlCheck{"vm.dirty_ratio", 40, "writers block only when this share of memory is dirty"},
			sysctlCheck{"vm.dirty_expire_centisecs", 3000, "age at which dirty pages are written back; 30 s matches whisper's write pattern"},
		)
	}
	var out []Check
	for _, s := range sysctls {
		c := Check{Name: s.name, Want: fmt.Sprintf(">= %d", s.min), Why: s.why}
		v, err := env.Sysctl(s.name)
		if err != nil {
			c.Current = "unknown"
		} else {
			c.Current = strconv.FormatInt(v, 10)
			c.OK = v >= s.min
		}
		if !c.OK {
			c.Fix = fmt.Sprintf("%s = %d", s.name, s.min)
		}
		out = append(out, c)
	}
	if !whisper {
		for _, n := range []string{"vm.dirty_background_ratio", "vm.dirty_ratio"} {
			c := Check{Name: n, Want: "any", OK: true, Why: "pebble writes large sequential files and syncs them itself"}
			if v, err := env.Sysctl(n); err == nil {
				c.Current = strconv.FormatInt(v, 10)
			} else {
				c.Current = "unknown"
			}
			out = append(out, c)
		}
	}

	const wantFiles = 65536
	nf := Check{Name: "ulimit -n (RLIMIT_NOFILE)", Want: fmt.Sprintf(">= %d", wantFiles),
		Current: fmt.Sprintf("%d (hard %d)", env.NoFileSoft, env.NoFileHard),
		OK:      env.NoFileSoft >= wantFiles,
		Why:     "every client connection is a descriptor, and the whisper backend keeps files open while writing"}
	if !nf.OK {
		nf.Fix = fmt.Sprintf("ulimit -n %d   # systemd: LimitNOFILE=%d", wantFiles, wantFiles)
	}
	out = append(out, nf)

	if v := env.Volume; v != nil {
		fs := Check{Name: "data volume filesystem", Current: v.FSType + " at " + v.Path, Want: "ext4 or xfs on a local or block device", OK: true}
		switch v.FSType {
		case "tmpfs":
			fs.OK, fs.Why, fs.Fix = false, "data in RAM is lost at reboot", "mount a disk volume at the data directory"
		case "overlayfs":
			fs.OK, fs.Why, fs.Fix = false, "a container's writable layer is slow and vanishes with the container", "mount a volume at the data directory (docker -v / compose volumes:)"
		case "nfs", "cifs", "fuse":
			fs.OK, fs.Why, fs.Fix = false, "network filesystems make fsync and small random writes slow", "use a local or block (EBS) volume"
		default:
			fs.Why = "local filesystem"
		}
		out = append(out, fs)

		free := Check{Name: "data volume free space", Current: fmt.Sprintf("%s of %s", FormatBytes(v.FreeBytes), FormatBytes(v.TotalBytes)),
			Want: ">= 10% and >= 1 GiB", Why: "pebble needs room to compact; whisper preallocates every file"}
		free.OK = v.FreeBytes >= 1*GiB && (v.TotalBytes == 0 || v.FreeBytes*10 >= v.TotalBytes)
		if !free.OK {
			free.Fix = "grow the data volume or lower retention"
		}
		out = append(out, free)
		if whisper {
			in := Check{Name: "data volume free inodes", Current: strconv.FormatInt(v.FreeInodes, 10), Want: ">= 1000000",
				Why: "whisper keeps one file per metric", OK: v.FreeInodes >= 1_000_000 || v.FSType == "btrfs" || v.FSType == "zfs"}
			if !in.OK {
				in.Fix = "make the filesystem with more inodes (mkfs.ext4 -i 8192) or use xfs"
			}
			out = append(out, in)
		}
	}
	return out
}
