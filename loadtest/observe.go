package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// crosser is a Counter that knows when (by the server's clock, at its own
// resolution) its sum reached a target.
type crosser interface {
	crossing(target float64) (time.Time, bool)
	// cumulative is the sum at a time, by the server's timestamps.
	cumulative(at time.Time) float64
}

// Counter reads a monotonically growing count from the server under test.
type Counter interface {
	// Read returns the current count and, when the source knows it, the
	// time the count was last increased (zero otherwise).
	Read(ctx context.Context) (float64, time.Time, error)
	String() string
}

// ParseCounter parses a counter source:
//
//	prom:URL#name     sum of the samples named name (any labels) in the Prometheus text at URL
//	render:URL#target sum of every datapoint that /render returns for target since the run began
//	sink:ADDR#name    a carbon plaintext listener on ADDR summing the values of metric name
//	                  (point etsy statsd's graphite backend at it)
//	whisper:DIR#name  sum of the points of metric name (globs allowed) in the whisper files
//	                  under DIR since the run began (carbon-cache without a render API)
func ParseCounter(spec string, since time.Time) (Counter, error) {
	kind, rest, ok := strings.Cut(spec, ":")
	where, name, ok2 := strings.Cut(rest, "#")
	if !ok || !ok2 || where == "" || name == "" {
		return nil, fmt.Errorf("parsing counter %q: want prom:URL#name, render:URL#target, sink:ADDR#name or whisper:DIR#name", spec)
	}
	switch kind {
	case "prom":
		return &promCounter{url: where, name: name, client: httpClient()}, nil
	case "render":
		return &renderCounter{url: where, target: name, since: since, client: httpClient()}, nil
	case "sink":
		return newSinkCounter(where, name)
	case "whisper":
		return &whisperCounter{dir: where, metric: name, since: since}, nil
	}
	return nil, fmt.Errorf("parsing counter %q: unknown kind %q", spec, kind)
}

func httpClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

type promCounter struct {
	url, name string
	client    *http.Client
}

func (c *promCounter) String() string { return "prom:" + c.url + "#" + c.name }

func (c *promCounter) Read(ctx context.Context) (float64, time.Time, error) {
	body, err := get(ctx, c.client, c.url)
	if err != nil {
		return 0, time.Time{}, err
	}
	v, found, err := sumPromSamples(body, c.name)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("reading %s: %w", c, err)
	}
	if !found {
		return 0, time.Time{}, nil // not exported until first increment
	}
	return v, time.Time{}, nil
}

// sumPromSamples sums every sample of metric name in Prometheus text
// exposition body ("name 12", "name{reason=\"x\"} 3 1700000000000").
func sumPromSamples(body []byte, name string) (float64, bool, error) {
	var sum float64
	found := false
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if len(line) == 0 || line[0] == '#' || !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if len(rest) == 0 || (rest[0] != ' ' && rest[0] != '{') {
			continue // a longer name with this prefix
		}
		if rest[0] == '{' {
			end := strings.LastIndexByte(rest, '}')
			if end < 0 {
				return 0, false, fmt.Errorf("bad sample line %q", line)
			}
			rest = rest[end+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0, false, fmt.Errorf("bad sample line %q", line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return 0, false, fmt.Errorf("bad sample line %q: %w", line, err)
		}
		sum += v
		found = true
	}
	return sum, found, sc.Err()
}

type renderCounter struct {
	url, target string
	since       time.Time
	client      *http.Client
	timed       timedPoints
}

func (c *renderCounter) String() string { return "render:" + c.url + "#" + c.target }

// renderSeries is one element of /render?format=json.
type renderSeries struct {
	Target     string       `json:"target"`
	Datapoints [][2]*number `json:"datapoints"`
}

// number accepts JSON numbers and null.
type number float64

func (n *number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = number(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	*n = number(f)
	return err
}

// render fetches target over [from, until] from a graphite /render URL.
func render(ctx context.Context, client *http.Client, base, target string, from, until int64) ([]renderSeries, error) {
	// noCache: a probe must see the server's data now, not a cached answer.
	q := url.Values{"target": {target}, "format": {"json"}, "noCache": {"1"},
		"from": {strconv.FormatInt(from, 10)}, "until": {strconv.FormatInt(until, 10)}}
	body, err := get(ctx, client, base+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	var out []renderSeries
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("decoding render of %q: %w", target, err)
	}
	return out, nil
}

func (c *renderCounter) Read(ctx context.Context) (float64, time.Time, error) {
	now := time.Now()
	series, err := render(ctx, c.client, c.url, c.target, c.since.Unix()-1, now.Unix()+60)
	if err != nil {
		return 0, time.Time{}, err
	}
	var pts []wspPoint
	for _, s := range series {
		for _, dp := range s.Datapoints {
			if dp[0] != nil && dp[1] != nil {
				pts = append(pts, wspPoint{int64(*dp[1]), float64(*dp[0])})
			}
		}
	}
	sum, at := c.timed.set(pts, c.since.Unix())
	return sum, at, nil
}

func (c *renderCounter) crossing(target float64) (time.Time, bool) { return c.timed.crossing(target) }

func (c *renderCounter) cumulative(at time.Time) float64 { return c.timed.cumulative(at) }

func get(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("requesting %q: %w", u, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("requesting %q: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("requesting %q: status %d: %.200s", u, resp.StatusCode, body)
	}
	return body, nil
}

// sinkCounter is a carbon plaintext receiver that sums one metric's values.
type sinkCounter struct {
	ln   net.Listener
	name string
	mu   sync.Mutex
	sum  float64
	last time.Time
	wg   sync.WaitGroup
	done atomic.Bool
}

func newSinkCounter(addr, name string) (*sinkCounter, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for the graphite sink on %q: %w", addr, err)
	}
	s := &sinkCounter{ln: ln, name: name}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *sinkCounter) String() string { return "sink:" + s.ln.Addr().String() + "#" + s.name }

func (s *sinkCounter) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			sc := bufio.NewScanner(c)
			sc.Buffer(make([]byte, 64*1024), 1<<20)
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) >= 2 && f[0] == s.name {
					if v, err := strconv.ParseFloat(f[1], 64); err == nil && !math.IsNaN(v) {
						s.mu.Lock()
						s.sum += v
						if v != 0 {
							s.last = time.Now()
						}
						s.mu.Unlock()
					}
				}
			}
		}()
	}
}

func (s *sinkCounter) Read(context.Context) (float64, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sum, s.last, nil
}

// Close stops the sink.
func (s *sinkCounter) Close() error {
	if s.done.Swap(true) {
		return nil
	}
	err := s.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
