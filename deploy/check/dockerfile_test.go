package check

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/ingest/ingesttest"
)

func parseDockerfile(t testing.TB) *Dockerfile {
	t.Helper()
	f, err := os.Open(deployPath(t, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := ParseDockerfile(f)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// buildStageName is the stage the final stage copies from.
func buildStageName(d *Dockerfile) (string, error) {
	final := d.Stages[len(d.Stages)-1]
	for _, in := range final.Find("COPY") {
		if flags, _ := in.Flags(); flags["from"] != "" {
			return flags["from"], nil
		}
	}
	return "", errors.New("final stage copies nothing from another stage")
}

// copyContext copies the files the build context keeps (after
// deploy/Dockerfile.dockerignore, which BuildKit uses for deploy/Dockerfile)
// from the repository root to dst.
func copyContext(root, dst string) ([]string, error) {
	f, err := os.Open(filepath.Join(root, "deploy", "Dockerfile.dockerignore"))
	if err != nil {
		return nil, err
	}
	ig, err := ParseIgnore(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	var kept []string
	err = filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if de.IsDir() {
			if rel == ".git" || (rel != "." && ig.SkipDir(rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !de.Type().IsRegular() || ig.Excluded(rel) {
			return nil
		}
		kept = append(kept, rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	return kept, err
}

var outPath = regexp.MustCompile(`(^|[\s="'])/out\b`)

// runBuildStage does what `docker build` does in the build stage, without
// Docker: copy the context (as filtered by the dockerignore) into a fresh
// directory standing for WORKDIR, and run the stage's RUN commands there
// with its ARG defaults, /out mapped to a temporary directory. Only go and
// mkdir commands are allowed, so the check stays faithful to the file.
func runBuildStage() (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	f, err := os.Open(filepath.Join(root, "deploy", "Dockerfile"))
	if err != nil {
		return "", err
	}
	d, err := ParseDockerfile(f)
	f.Close()
	if err != nil {
		return "", err
	}
	name, err := buildStageName(d)
	if err != nil {
		return "", err
	}
	st := d.Stage(name)
	if st == nil {
		return "", fmt.Errorf("no stage %q", name)
	}
	ctx := filepath.Join(shared.dir, "context")
	out := filepath.Join(shared.dir, "out")
	if _, err := copyContext(root, ctx); err != nil {
		return "", fmt.Errorf("copying build context: %w", err)
	}
	env := os.Environ()
	for _, in := range st.Instructions {
		switch in.Cmd {
		case "WORKDIR", "ENV":
			if in.Cmd == "ENV" {
				env = append(env, strings.Fields(in.Args)...)
			}
		case "ARG":
			k, v, _ := strings.Cut(in.Args, "=")
			env = append(env, strings.TrimSpace(k)+"="+strings.TrimSpace(v))
		case "COPY":
			_, rest := in.Flags()
			f := strings.Fields(rest)
			for _, src := range f[:len(f)-1] {
				if _, err := os.Stat(filepath.Join(ctx, src)); err != nil {
					return "", fmt.Errorf("line %d: COPY source %q is not in the build context: %w", in.Line, src, err)
				}
			}
		case "RUN":
			_, cmd := in.Flags()
			for _, part := range regexp.MustCompile(`&&|;`).Split(cmd, -1) {
				words := strings.Fields(part)
				for len(words) > 0 && strings.Contains(words[0], "=") {
					words = words[1:]
				}
				if len(words) == 0 || (words[0] != "go" && words[0] != "mkdir") {
					return "", fmt.Errorf("line %d: RUN %q: this check only runs go and mkdir commands", in.Line, part)
				}
			}
			sh := exec.Command("sh", "-ec", outPath.ReplaceAllString(cmd, "${1}"+out))
			sh.Dir = ctx
			sh.Env = env
			if b, err := sh.CombinedOutput(); err != nil {
				return "", fmt.Errorf("line %d: RUN %s: %v\n%s", in.Line, cmd, err, b)
			}
		default:
			return "", fmt.Errorf("line %d: %s in the build stage: this check does not know it", in.Line, in.Cmd)
		}
	}
	return out, nil
}

// finalCopies maps each path the final stage copies from the build stage to
// where it lands in the image.
func finalCopies(t *testing.T, d *Dockerfile) map[string]string {
	t.Helper()
	final := d.Stages[len(d.Stages)-1]
	m := map[string]string{}
	for _, in := range final.Find("COPY") {
		flags, rest := in.Flags()
		if flags["from"] == "" {
			continue
		}
		f := strings.Fields(rest)
		dst := f[len(f)-1]
		for _, src := range f[:len(f)-1] {
			if strings.HasSuffix(dst, "/") {
				m[src] = path.Join(dst, path.Base(src))
			} else {
				m[src] = dst
			}
		}
	}
	return m
}

func serveHelp(t *testing.T, bin string) string {
	t.Helper()
	var buf bytes.Buffer
	cmd := exec.Command(bin, "serve", "-h")
	cmd.Stdout, cmd.Stderr = &buf, &buf
	_ = cmd.Run() // -h exits 0 or 2 depending on the flag package's handling
	return buf.String()
}

// serveAddrFlags lists every --*-addr flag of `plumbago serve`.
func serveAddrFlags(t *testing.T, bin string) []string {
	t.Helper()
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s+-(\S+-addr) string$`).FindAllStringSubmatch(serveHelp(t, bin), -1) {
		names = append(names, m[1])
	}
	if !slices.Contains(names, "http-addr") || !slices.Contains(names, "carbon-addr") {
		t.Fatalf("serve has no --http-addr/--carbon-addr flags: %v", names)
	}
	return names
}

// servePortDefaults runs `plumbago serve -h` and returns the default of each
// --*-addr flag, so the exposed ports follow the code.
func servePortDefaults(t *testing.T, bin string) map[string]string {
	t.Helper()
	help := serveHelp(t, bin)
	re := regexp.MustCompile(`(?m)^\s+-(\S+-addr) string\n\s+.*\(default "([^"]*)"\)`)
	m := map[string]string{}
	for _, sm := range re.FindAllStringSubmatch(help, -1) {
		m[sm[1]] = sm[2]
	}
	if len(m) == 0 {
		t.Fatalf("no --*-addr defaults in `plumbago serve -h`:\n%s", help)
	}
	return m
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		t.Fatalf("address %q has no port", addr)
	}
	return addr[i+1:]
}

// expectedPorts is what the image must expose: every public listener at its
// default port (carbon and statsd on TCP and UDP). carbonlink defaults to
// 127.0.0.1 (a local cache query port) and is not exposed.
func expectedPorts(t *testing.T, bin string) []string {
	t.Helper()
	def := servePortDefaults(t, bin)
	var want []string
	for flagName, protos := range map[string][]string{
		"carbon-addr": {"tcp", "udp"}, "pickle-addr": {"tcp"}, "statsd-addr": {"udp", "tcp"},
		"statsd-admin-addr": {"tcp"}, "http-addr": {"tcp"},
	} {
		addr, ok := def[flagName]
		if !ok {
			t.Fatalf("flag --%s has no default address", flagName)
		}
		for _, p := range protos {
			want = append(want, portOf(t, addr)+"/"+p)
		}
	}
	if strings.HasPrefix(def["carbonlink-addr"], ":") {
		t.Errorf("carbonlink listens on all interfaces by default (%q): expose it or keep it local", def["carbonlink-addr"])
	}
	slices.Sort(want)
	return want
}

func TestDockerfileStages(t *testing.T) {
	d := parseDockerfile(t)
	if len(d.Stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(d.Stages))
	}
	name, err := buildStageName(d)
	if err != nil {
		t.Fatal(err)
	}
	build, final := d.Stage(name), d.Stages[len(d.Stages)-1]
	if build == nil {
		t.Fatalf("final stage copies from unknown stage %q", name)
	}
	// The build stage's Go matches go.mod's go directive.
	gomod := string(readFile(t, filepath.Join(repoRoot(t), "go.mod")))
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(gomod)
	if m == nil {
		t.Fatal("no go directive in go.mod")
	}
	if got := d.GlobalArgs["GO_VERSION"]; got != m[1] || build.Base != "golang:${GO_VERSION}" {
		t.Errorf("build stage FROM %q with GO_VERSION %q, want golang at go.mod's %s", build.Base, got, m[1])
	}
	if !strings.HasPrefix(final.Base, "gcr.io/distroless/static") || !strings.HasSuffix(final.Base, ":nonroot") {
		t.Errorf("runtime base %q, want distroless static (no libc, no shell) :nonroot", final.Base)
	}
	users := final.Find("USER")
	if len(users) != 1 {
		t.Fatalf("runtime stage has %d USER instructions, want 1", len(users))
	}
	uid, gid, _ := strings.Cut(users[0].Args, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %q: want a numeric non-root uid", users[0].Args)
	}
	vols := final.Find("VOLUME")
	if len(vols) != 1 {
		t.Fatalf("%d VOLUME instructions, want 1", len(vols))
	}
	if argv, ok := Exec(vols[0].Args); !ok || !slices.Equal(argv, []string{"/data"}) {
		t.Errorf("VOLUME %s, want [\"/data\"]", vols[0].Args)
	}
	// /data is created owned by the runtime user, so a fresh named volume
	// (initialised from the image) is writable.
	var dataOwned bool
	for _, in := range final.Find("COPY") {
		flags, rest := in.Flags()
		if f := strings.Fields(rest); len(f) > 0 && f[len(f)-1] == "/data" {
			dataOwned = flags["chown"] == uid+":"+gid
		}
	}
	if !dataOwned {
		t.Errorf("/data is not created with --chown=%s:%s", uid, gid)
	}
	copies := finalCopies(t, d)
	inImage := map[string]bool{}
	for _, dst := range copies {
		inImage[dst] = true
	}
	hc := final.Find("HEALTHCHECK")
	if len(hc) != 1 {
		t.Fatalf("%d HEALTHCHECK instructions, want 1", len(hc))
	}
	_, rest := hc[0].Flags()
	cmd, args, _ := strings.Cut(rest, " ")
	argv, ok := Exec(args)
	if cmd != "CMD" || !ok || !inImage[argv[0]] {
		t.Errorf("HEALTHCHECK %q: want CMD in exec form running a binary copied into the image", hc[0].Args)
	}
	ep := final.Find("ENTRYPOINT")
	if len(ep) != 1 {
		t.Fatalf("%d ENTRYPOINT instructions, want 1", len(ep))
	}
	if argv, ok := Exec(ep[0].Args); !ok || !inImage[argv[0]] || path.Base(argv[0]) != "plumbago" {
		t.Errorf("ENTRYPOINT %s: want the plumbago binary in exec form", ep[0].Args)
	}
	cmds := final.Find("CMD")
	if len(cmds) != 1 {
		t.Fatalf("%d CMD instructions, want 1", len(cmds))
	}
	if argv, ok := Exec(cmds[0].Args); !ok || !slices.Equal(argv, []string{"serve", "--data-dir=/data"}) {
		t.Errorf("CMD %s, want [\"serve\", \"--data-dir=/data\"]", cmds[0].Args)
	}
}

func TestDockerfileBuildsStaticBinaries(t *testing.T) {
	out := builtOut(t)
	d := parseDockerfile(t)
	copies := finalCopies(t, d)
	bins := 0
	for src := range copies {
		p := filepath.Join(out, strings.TrimPrefix(src, "/out"))
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("the final stage copies %s, which the build stage did not produce: %v", src, err)
		}
		if fi.IsDir() {
			continue
		}
		bins++
		f, err := elf.Open(p)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s has a program interpreter: not static", src)
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("%s needs shared libraries %v", src, libs)
		}
		if f.Section(".symtab") != nil {
			t.Errorf("%s keeps its symbol table (want -ldflags=-s)", src)
		}
		f.Close()
	}
	if bins != 2 {
		t.Errorf("%d binaries copied into the image, want 2 (plumbago, healthcheck)", bins)
	}
	got, err := exec.Command(filepath.Join(out, "plumbago"), "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "plumbago dev go1."; !strings.HasPrefix(string(got), want) {
		t.Errorf("plumbago version = %q, want prefix %q", got, want)
	}
}

func TestDockerfileExposesDefaultPorts(t *testing.T) {
	bin := filepath.Join(builtOut(t), "plumbago")
	want := expectedPorts(t, bin)
	final := parseDockerfile(t).Stages[len(parseDockerfile(t).Stages)-1]
	var got []string
	for _, in := range final.Find("EXPOSE") {
		got = append(got, strings.Fields(in.Args)...)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("EXPOSE %v, want %v", got, want)
	}
}

func TestDockerContext(t *testing.T) {
	kept, err := copyContext(repoRoot(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, k := range kept {
		has[k] = true
		if strings.HasSuffix(k, "_test.go") || strings.HasPrefix(k, "docs/") || strings.HasPrefix(k, ".git") ||
			strings.Contains(k, "/testdata/") || strings.HasPrefix(k, "deploy/terraform/") {
			t.Errorf("build context includes %s", k)
		}
	}
	for _, k := range []string{"go.mod", "go.sum", "cmd/plumbago/main.go", "deploy/healthcheck/main.go"} {
		if !has[k] {
			t.Errorf("build context lacks %s", k)
		}
	}
}

func TestHealthcheckBinary(t *testing.T) {
	hc := filepath.Join(builtOut(t), "healthcheck")
	p := startPlumbago(t, "whisper")
	if b, err := exec.Command(hc, p.httpAddr).CombinedOutput(); err != nil {
		t.Errorf("healthcheck against a running plumbago: %v\n%s", err, b)
	}
	cmd := exec.Command(hc)
	cmd.Env = append(os.Environ(), "PLUMBAGO_HEALTHCHECK_ADDR="+p.httpAddr)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("healthcheck with PLUMBAGO_HEALTHCHECK_ADDR: %v\n%s", err, b)
	}
	closed := ingesttest.FreePort(t)
	err := exec.Command(hc, "127.0.0.1:"+strconv.Itoa(closed)).Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("healthcheck against a closed port: %v, want exit status 1", err)
	}
	// A server answering something other than 200 is unhealthy.
	srv := fakeHTTP(t, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
	err = exec.Command(hc, srv).Run()
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("healthcheck against a 503: %v, want exit status 1", err)
	}
}
