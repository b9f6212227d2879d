package check

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The subset of the compose specification deploy/docker-compose.yml uses;
// decoding is strict, so a misspelt key fails.
type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]*struct{}      `yaml:"volumes"`
}

type composeService struct {
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Image           string            `yaml:"image"`
	Restart         string            `yaml:"restart"`
	Command         []string          `yaml:"command"`
	Ports           []string          `yaml:"ports"`
	Volumes         []string          `yaml:"volumes"`
	Environment     map[string]string `yaml:"environment"`
	DependsOn       []string          `yaml:"depends_on"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	Ulimits         map[string]struct {
		Soft int `yaml:"soft"`
		Hard int `yaml:"hard"`
	} `yaml:"ulimits"`
}

type mount struct{ src, dst string }

func (s composeService) mounts() []mount {
	var m []mount
	for _, v := range s.Volumes {
		// source:target[:mode]; the source may hold ${VAR:-default}.
		f := strings.Split(v, ":")
		if n := len(f); n > 2 && (f[n-1] == "ro" || f[n-1] == "rw") {
			f = f[:n-1]
		}
		m = append(m, mount{strings.Join(f[:len(f)-1], ":"), f[len(f)-1]})
	}
	return m
}

func (s composeService) mountOf(dst string) (string, bool) {
	for _, m := range s.mounts() {
		if m.dst == dst {
			return m.src, true
		}
	}
	return "", false
}

func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, path)))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	decodeStrict(t, deployPath(t, "docker-compose.yml"), &c)
	return c
}

// hostPath resolves a compose bind-mount source relative to deploy/.
func hostPath(t *testing.T, src string) string {
	return filepath.Join(deployPath(t), filepath.FromSlash(src))
}

func TestComposeFile(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"plumbago", "grafana", "prometheus"} {
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("no %s service", name)
		}
		if s.Restart != "unless-stopped" && s.Restart != "always" {
			t.Errorf("%s: restart %q, want unless-stopped or always", name, s.Restart)
		}
	}
	if len(c.Services) != 3 {
		t.Errorf("%d services, want plumbago, grafana and prometheus", len(c.Services))
	}

	// Plumbago: built from this repository's Dockerfile, every exposed port
	// published, the image's /data volume on a named volume.
	p := c.Services["plumbago"]
	if p.Build == nil {
		t.Fatal("plumbago has no build section")
	}
	df := filepath.Join(deployPath(t), p.Build.Context, p.Build.Dockerfile)
	if df != deployPath(t, "Dockerfile") {
		t.Errorf("plumbago builds %s, want deploy/Dockerfile with the repository root as context", df)
	}
	if filepath.Clean(filepath.Join(deployPath(t), p.Build.Context)) != repoRoot(t) {
		t.Errorf("build context %q is not the repository root", p.Build.Context)
	}
	want := expectedPorts(t, filepath.Join(builtOut(t), "plumbago"))
	var got []string
	for _, port := range p.Ports {
		hostPort, cont, ok := strings.Cut(port, ":")
		if !ok || !strings.Contains(cont, "/") || hostPort+"/"+strings.SplitN(cont, "/", 2)[1] != cont {
			t.Errorf("port %q: want host:container/proto with the same port", port)
		}
		got = append(got, cont)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("plumbago ports %v, want %v (the Dockerfile's EXPOSE)", got, want)
	}
	if !slices.Equal(p.Command, []string{"serve", "--data-dir=/data"}) {
		t.Errorf("plumbago command %v", p.Command)
	}
	if src, ok := p.mountOf("/data"); !ok || c.Volumes[src] == nil && !hasKey(c.Volumes, src) {
		t.Errorf("plumbago /data is not on a named volume (got %q)", src)
	}
	if p.StopGracePeriod == "" {
		t.Error("plumbago has no stop_grace_period: docker's 10 s default can cut the SIGTERM drain short")
	}
	if n := p.Ulimits["nofile"]; n.Soft < 65536 {
		t.Errorf("plumbago nofile %d, want >= 65536", n.Soft)
	}

	// Grafana: official image, pinned; provisioning and dashboards mounted
	// from files that exist; its state on a named volume.
	g := c.Services["grafana"]
	if !strings.HasPrefix(g.Image, "grafana/grafana:") || strings.HasSuffix(g.Image, ":latest") {
		t.Errorf("grafana image %q, want the official grafana/grafana at a pinned version", g.Image)
	}
	for _, dst := range []string{"/etc/grafana/provisioning/datasources", "/etc/grafana/provisioning/dashboards"} {
		src, ok := g.mountOf(dst)
		if !ok {
			t.Errorf("grafana: nothing mounted on %s", dst)
			continue
		}
		if fi, err := os.Stat(hostPath(t, src)); err != nil || !fi.IsDir() {
			t.Errorf("grafana: %s is mounted from %s, not a directory: %v", dst, src, err)
		}
	}
	if src, ok := g.mountOf("/var/lib/grafana"); !ok || !hasKey(c.Volumes, src) {
		t.Errorf("grafana /var/lib/grafana is not on a named volume (got %q)", src)
	}
	home := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
	if _, err := os.Stat(containerToHost(t, g, home)); err != nil {
		t.Errorf("grafana home dashboard %q does not map to a file: %v", home, err)
	}

	// Prometheus: its config mounted from deploy/prometheus, data on a volume.
	pr := c.Services["prometheus"]
	if !strings.HasPrefix(pr.Image, "prom/prometheus:v") {
		t.Errorf("prometheus image %q, want prom/prometheus at a pinned version", pr.Image)
	}
	cfg, ok := pr.mountOf("/etc/prometheus/prometheus.yml")
	if !ok {
		t.Fatal("prometheus: no /etc/prometheus/prometheus.yml mount")
	}
	if _, err := os.Stat(hostPath(t, cfg)); err != nil {
		t.Error(err)
	}
	if !slices.Contains(pr.Command, "--config.file=/etc/prometheus/prometheus.yml") {
		t.Errorf("prometheus command %v does not read the mounted config", pr.Command)
	}
	if src, ok := pr.mountOf("/prometheus"); !ok || !hasKey(c.Volumes, src) {
		t.Errorf("prometheus /prometheus is not on a named volume (got %q)", src)
	}

	// Every named volume used is declared, and every declared one used.
	used := map[string]bool{}
	for name, s := range c.Services {
		for _, m := range s.mounts() {
			if strings.HasPrefix(m.src, ".") || strings.HasPrefix(m.src, "/") {
				continue
			}
			used[m.src] = true
			if !hasKey(c.Volumes, m.src) {
				t.Errorf("%s: volume %q is not declared", name, m.src)
			}
		}
		for _, dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("%s depends on unknown service %q", name, dep)
			}
		}
	}
	for v := range c.Volumes {
		if !used[v] {
			t.Errorf("volume %q is declared but unused", v)
		}
	}
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

// containerToHost maps a path inside a service's container to the host file
// a bind mount puts there.
func containerToHost(t *testing.T, s composeService, p string) string {
	t.Helper()
	for _, m := range s.mounts() {
		if !strings.HasPrefix(m.src, ".") {
			continue
		}
		if rel, ok := strings.CutPrefix(p, m.dst+"/"); ok {
			return filepath.Join(hostPath(t, m.src), filepath.FromSlash(rel))
		}
	}
	t.Fatalf("%s is not under a bind mount", p)
	return ""
}

// serviceURL checks that a URL used inside the compose network names a
// service and a port it listens on.
func serviceURL(t *testing.T, c composeFile, raw string, ports map[string]string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url %q: %v", raw, err)
	}
	if _, ok := c.Services[u.Hostname()]; !ok {
		t.Errorf("url %q: %q is not a compose service", raw, u.Hostname())
	}
	if want := ports[u.Hostname()]; u.Port() != want {
		t.Errorf("url %q: port %q, want %q", raw, u.Port(), want)
	}
}

// TestComposeWhisperOverride checks the override that serves an old whisper
// volume: it only changes the plumbago service, every flag it passes exists,
// and every path it names is mounted.
func TestComposeWhisperOverride(t *testing.T) {
	var o composeFile
	decodeStrict(t, deployPath(t, "docker-compose.whisper.yml"), &o)
	if len(o.Services) != 1 {
		t.Fatalf("override touches %d services, want only plumbago", len(o.Services))
	}
	p, ok := o.Services["plumbago"]
	if !ok {
		t.Fatal("override does not change plumbago")
	}
	if len(p.Command) == 0 || p.Command[0] != "serve" {
		t.Fatalf("command %v", p.Command)
	}
	out, err := exec.Command(filepath.Join(builtOut(t), "plumbago"), "serve", "-h").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "-data-dir") {
		t.Fatalf("serve -h: %v\n%s", err, out)
	}
	base := loadCompose(t).Services["plumbago"]
	mounts := append(base.mounts(), p.mounts()...)
	flags := map[string]string{}
	for _, a := range p.Command[1:] {
		name, val, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok || !strings.Contains(string(out), "\n  -"+name+" ") {
			t.Errorf("argument %q: not a --flag=value of plumbago serve", a)
			continue
		}
		flags[name] = val
		if strings.HasPrefix(val, "/") && !slices.ContainsFunc(mounts, func(m mount) bool {
			return val == m.dst || strings.HasPrefix(val, m.dst+"/")
		}) {
			t.Errorf("--%s=%s is not on a mounted volume", name, val)
		}
	}
	if flags["backend"] != "whisper" || flags["whisper-dir"] == "" {
		t.Errorf("override flags %v: want --backend=whisper and --whisper-dir", flags)
	}
	for _, m := range p.mounts() {
		if !strings.HasPrefix(m.src, "${") {
			t.Errorf("mount %s: the host path should come from a variable (WHISPER_DIR, CARBON_CONF_DIR)", m.src)
		}
	}
}
