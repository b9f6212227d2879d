package check

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
)

type plumbago struct {
	httpAddr, carbonAddr string
	cmd                  *exec.Cmd
	log                  *bytes.Buffer
}

// fakeHTTP serves one canned response to every connection; it returns the
// address.
func fakeHTTP(t *testing.T, response string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				io.WriteString(c, response)
			}()
		}
	}()
	return l.Addr().String()
}

// startPlumbago runs the binary built as the Dockerfile builds it, on
// loopback ports, with the given backend in a temporary data directory,
// and waits until /healthz answers. Every listener is on, on loopback.
func startPlumbago(t *testing.T, backend string, extra ...string) *plumbago {
	t.Helper()
	bin := filepath.Join(builtOut(t), "plumbago")
	addrFlags := serveAddrFlags(t, bin)
	var p *plumbago
	for attempt := 0; attempt < 3; attempt++ {
		p = &plumbago{
			httpAddr:   "127.0.0.1:" + strconv.Itoa(ingesttest.FreePort(t)),
			carbonAddr: "127.0.0.1:" + strconv.Itoa(ingesttest.FreePort(t)),
			log:        &bytes.Buffer{},
		}
		args := []string{"serve", "--backend=" + backend, "--data-dir=" + t.TempDir()}
		for _, f := range addrFlags {
			switch f {
			case "http-addr":
				args = append(args, "--http-addr="+p.httpAddr)
			case "carbon-addr":
				args = append(args, "--carbon-addr="+p.carbonAddr)
			default: // every listener on, on loopback, so every metric shows
				args = append(args, "--"+f+"=127.0.0.1:"+strconv.Itoa(ingesttest.FreePort(t)))
			}
		}
		p.cmd = exec.Command(bin, append(args, extra...)...)
		p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- p.cmd.Wait() }()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case err := <-exited:
				t.Logf("plumbago exited (%v), retrying with other ports:\n%s", err, p.log)
				goto retry
			default:
			}
			if resp, err := http.Get("http://" + p.httpAddr + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					t.Cleanup(func() {
						p.cmd.Process.Signal(syscall.SIGTERM)
						select {
						case <-exited:
						case <-time.After(30 * time.Second):
							p.cmd.Process.Kill()
							t.Errorf("plumbago did not stop on SIGTERM:\n%s", p.log)
						}
					})
					return p
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		p.cmd.Process.Kill()
		t.Fatalf("plumbago did not become healthy:\n%s", p.log)
	retry:
	}
	t.Fatalf("plumbago did not start")
	return nil
}

// exposition is a scraped /metrics.
type exposition struct {
	samples map[string]map[string]map[string]bool // sample name -> label -> values
	help    map[string]string                     // family name -> HELP text
	typ     map[string]string                     // family name -> TYPE
}

// scrape reads GET /metrics in the Prometheus text format.
func (p *plumbago) scrape(t *testing.T) exposition {
	t.Helper()
	resp, err := http.Get("http://" + p.httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	e, err := parseExposition(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func parseExposition(r io.Reader) (exposition, error) {
	e := exposition{samples: map[string]map[string]map[string]bool{}, help: map[string]string{}, typ: map[string]string{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, text, _ := strings.Cut(rest, " ")
			e.help[name] = text
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			e.typ[name] = typ
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := line
		var labels string
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
			if line[i] == '{' {
				j := strings.LastIndexByte(line, '}')
				if j < i {
					return e, fmt.Errorf("line %d: unclosed labels: %q", n, line)
				}
				labels = line[i+1 : j]
			}
		}
		if name == "" {
			return e, fmt.Errorf("line %d: no metric name: %q", n, line)
		}
		if e.samples[name] == nil {
			e.samples[name] = map[string]map[string]bool{}
		}
		for _, kv := range strings.Split(labels, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				k = strings.TrimSpace(k)
				if e.samples[name][k] == nil {
					e.samples[name][k] = map[string]bool{}
				}
				e.samples[name][k][strings.Trim(v, `"`)] = true
			}
		}
	}
	return e, sc.Err()
}

func (e exposition) names() []string {
	var n []string
	for k := range e.samples {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// sendCarbon sends carbon plaintext lines over TCP.
func (p *plumbago) sendCarbon(t *testing.T, lines string) {
	t.Helper()
	c, err := net.Dial("tcp", p.carbonAddr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, lines); err != nil {
		t.Fatal(err)
	}
	c.Close()
}
