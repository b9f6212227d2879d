// Package chtest starts a real ClickHouse server (Debian's
// clickhouse-server) on loopback for tests: its own config, data, tmp and
// log directories, free ports, a graphite_rollup section from the caller.
// A test package shares one server (Shared, stopped by Main); a missing
// binary skips the test, or fails it under CI=true (internal/testenv).
package chtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/internal/testenv"
)

// Binary returns the path of clickhouse-server, or calls testenv.Missing.
func Binary(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"clickhouse-server", "clickhouse"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	for _, p := range []string{"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server", "/usr/bin/clickhouse"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	testenv.Missing(t, "clickhouse-server not installed (apt clickhouse-server)")
	return ""
}

// Server is one running ClickHouse.
type Server struct {
	URL      string // http://127.0.0.1:<port>/
	HTTPPort int
	TCPPort  int
	Dir      string
	cmd      *exec.Cmd
	log      *bytes.Buffer
	exited   chan struct{}
}

// Options of a server beyond the defaults.
type Options struct {
	// ConfigD are files of config.d (name -> XML), e.g. the
	// graphite_rollup section `plumbago clickhouse schema` prints.
	ConfigD map[string]string
	// Extra is more XML put inside <yandex> of config.xml (remote_servers,
	// zookeeper, macros).
	Extra string
	// HTTPPort and TCPPort, when set, are used instead of free ports
	// (a cluster's servers name each other's ports in Extra).
	HTTPPort, TCPPort int
	// Users is the <users> section (default: user default, no password,
	// from loopback).
	Users string
}

const defaultUsers = `<default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default>`

// Start starts a server in dir (created) and waits until it answers
// /ping. The caller stops it with Stop.
func Start(t testing.TB, dir string, o Options) *Server {
	t.Helper()
	bin := Binary(t)
	s := &Server{Dir: dir, HTTPPort: o.HTTPPort, TCPPort: o.TCPPort, log: new(bytes.Buffer), exited: make(chan struct{})}
	if s.HTTPPort == 0 {
		s.HTTPPort = ingesttest.FreePort(t)
	}
	if s.TCPPort == 0 {
		s.TCPPort = ingesttest.FreePort(t)
	}
	inter := ingesttest.FreePort(t)
	for _, d := range []string{"data", "tmp", "log", "user_files", "config.d"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	users := o.Users
	if users == "" {
		users = defaultUsers
	}
	cfg := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>%[1]s/log/server.log</log><errorlog>%[1]s/log/err.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>%[2]d</http_port>
  <tcp_port>%[3]d</tcp_port>
  <interserver_http_port>%[4]d</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <listen_host>127.0.0.1</listen_host>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <users_config>%[1]s/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>64</max_concurrent_queries>
  <timezone>UTC</timezone>
%[5]s
</yandex>
`, dir, s.HTTPPort, s.TCPPort, inter, o.Extra)
	usersXML := `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>` + users + `</users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config.xml", cfg)
	write("users.xml", usersXML)
	for name, text := range o.ConfigD {
		write(filepath.Join("config.d", name), text)
	}
	s.cmd = exec.Command(bin, "--config-file="+filepath.Join(dir, "config.xml"))
	s.cmd.Dir = dir
	s.cmd.SysProcAttr = dieWithParent()
	s.cmd.Stdout, s.cmd.Stderr = &lockedWriter{w: s.log}, &lockedWriter{w: s.log}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting clickhouse-server: %v", err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	s.URL = fmt.Sprintf("http://127.0.0.1:%d/", s.HTTPPort)
	deadline := time.Now().Add(120 * time.Second)
	for {
		resp, err := http.Get(s.URL + "ping")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.TrimSpace(string(body)) == "Ok." {
				return s
			}
		}
		select {
		case <-s.exited:
			errLog, _ := os.ReadFile(filepath.Join(dir, "log", "err.log"))
			t.Fatalf("clickhouse-server exited at start: %s\n%s", s.log, tail(errLog, 3000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			t.Fatalf("clickhouse-server did not answer /ping within 120 s")
		}
	}
}

// Query runs a statement over HTTP and returns the answer.
func (s *Server) Query(t testing.TB, q string) string {
	t.Helper()
	resp, err := http.Post(s.URL, "text/plain", strings.NewReader(q))
	if err != nil {
		t.Fatalf("clickhouse %q: %v", q, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("clickhouse %q: %d %s", q, resp.StatusCode, body)
	}
	return string(body)
}

// Stop ends the server (SIGTERM, then SIGKILL after 30 s) and waits.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// Kill ends the server with SIGKILL and waits.
func (s *Server) Kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

// ExactRollup is a graphite_rollup section (named section) that rolls
// nothing up: precision 1 s at every age, so merges only keep the newest
// version of each (Path, Time). Tests whose clock is not the wall clock
// use it (a real rollup would coarsen their "recent" points, which are
// years old to the server).
func ExactRollup(section string) string {
	return "<yandex><" + section + "><path_column_name>Path</path_column_name><time_column_name>Time</time_column_name>" +
		"<value_column_name>Value</value_column_name><version_column_name>Timestamp</version_column_name>" +
		"<default><function>avg</function><retention><age>0</age><precision>1</precision></retention></default></" + section + "></yandex>\n"
}

var (
	sharedMu  sync.Mutex
	shared    *Server
	sharedDir string
)

// Shared returns the package's one server, starting it on first use with
// o (later calls' o are ignored). Main stops it after the tests.
func Shared(t testing.TB, o Options) *Server {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		return shared
	}
	Binary(t)
	dir, err := os.MkdirTemp("", "plumbago-clickhouse-")
	if err != nil {
		t.Fatal(err)
	}
	sharedDir = dir
	shared = Start(t, dir, o)
	return shared
}

// Main runs the tests and stops the shared server; call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// StopShared stops the shared server, if one was started, and removes its
// directory: for a TestMain that does more than Main.
func StopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Stop()
		shared = nil
	}
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
		sharedDir = ""
	}
}

// WaitQuery polls q until its answer is want (trimmed), for up to d.
func (s *Server) WaitQuery(t testing.TB, q, want string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var got string
	for ctx.Err() == nil {
		if got = strings.TrimSpace(s.Query(t, q)); got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("clickhouse %q: got %q, want %q", q, got, want)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
