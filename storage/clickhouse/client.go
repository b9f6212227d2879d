package clickhouse

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plumbago/plumbago/storage"
)

// ClickHouse 18.16 (Debian's) speaks an older native protocol than the
// official Go client needs, so the backend talks to the HTTP interface
// (port 8123), which every version since 1.1 serves the same way: the
// statement in the query string, the data (RowBinary, gzip-compressed) in
// the POST body, errors as a non-200 status with the message as the body.

// maxErrorBody bounds what an error answer is read into a message.
const maxErrorBody = 4 << 10

// client sends statements to one of several servers (replicas of the same
// data, or Distributed fronts): the one that answered last, failing over
// to the next on a transport error or a 5xx answer.
type client struct {
	urls     []*url.URL
	user     string
	password string
	hc       *http.Client
	next     atomic.Uint32 // index of the server to try first
	// insertSettings are ClickHouse settings added to every INSERT's URL
	// (insert_distributed_sync, and insert_quorum when asked for).
	insertSettings url.Values

	gzMu sync.Mutex
	gz   *gzip.Writer
}

// HTTPError is a non-200 answer of the server.
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("clickhouse answered %d: %s", e.Status, strings.TrimSpace(e.Body))
}

// TLSOptions are the client's TLS settings for https:// URLs.
type TLSOptions struct {
	CAFile             string // PEM bundle to verify the server with (default: the system roots)
	CertFile, KeyFile  string // client certificate, when the server asks for one
	ServerName         string // name to verify instead of the URL's host
	InsecureSkipVerify bool
}

func newClient(rawURLs []string, user, password string, tc *tls.Config, timeout time.Duration, insertQuorum int) (*client, error) {
	if len(rawURLs) == 0 {
		return nil, errors.New("clickhouse: no server URL")
	}
	// Into a Distributed table: acknowledged once the shards have the
	// rows, not when they are queued on the server that took them.
	settings := url.Values{"insert_distributed_sync": {"1"}}
	if insertQuorum > 1 {
		// Acknowledged once insertQuorum replicas of each shard have the
		// rows. The server waits for them at most insert_quorum_timeout
		// (its default is 10 min): 80% of this client's wait, so that its
		// answer (the quorum's error) arrives before the client gives up.
		settings.Set("insert_quorum", strconv.Itoa(insertQuorum))
		settings.Set("insert_quorum_timeout", strconv.FormatInt(timeout.Milliseconds()*4/5, 10))
	}
	c := &client{user: user, password: password, insertSettings: settings}
	for _, r := range rawURLs {
		u, err := url.Parse(strings.TrimSpace(r))
		if err != nil {
			return nil, fmt.Errorf("clickhouse URL %q: %w", r, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("clickhouse URL %q: scheme must be http or https", r)
		}
		if u.Path == "" {
			u.Path = "/"
		}
		c.urls = append(c.urls, u)
	}
	tr := &http.Transport{
		TLSClientConfig:     tc,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  false,
	}
	c.hc = &http.Client{Transport: tr, Timeout: timeout}
	c.gz, _ = gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return c, nil
}

// do sends one statement: query in the URL, body (already gzip-compressed
// when gzipped) as the POST body, and returns the answer's body. It tries
// each server once, starting with the one that answered last.
func (c *client) do(ctx context.Context, query string, body []byte, gzipped bool, limit int64) ([]byte, error) {
	var lastErr error
	start := int(c.next.Load())
	for i := range c.urls {
		k := (start + i) % len(c.urls)
		out, err := c.doOne(ctx, c.urls[k], query, body, gzipped, limit)
		if err == nil {
			c.next.Store(uint32(k))
			return out, nil
		}
		lastErr = err
		var he *HTTPError
		if (errors.As(err, &he) && he.Status < 500) || errors.Is(err, storage.ErrTooManyResults) {
			return nil, err // the statement is wrong: another server says the same
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func (c *client) doOne(ctx context.Context, base *url.URL, query string, body []byte, gzipped bool, limit int64) ([]byte, error) {
	u := *base
	q := u.Query()
	if body == nil {
		body = []byte(query)
	} else {
		q.Set("query", query)
		for k, v := range c.insertSettings {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if c.user != "" || c.password != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: %w", base.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, fmt.Errorf("clickhouse %s: %w", base.Host, &HTTPError{Status: resp.StatusCode, Body: string(msg)})
	}
	var r io.Reader = resp.Body
	if limit > 0 {
		r = io.LimitReader(resp.Body, limit+1)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: reading the answer: %w", base.Host, err)
	}
	if limit > 0 && int64(len(out)) > limit {
		return nil, fmt.Errorf("clickhouse %s: answer over %d bytes: %w", base.Host, limit, storage.ErrTooManyResults)
	}
	return out, nil
}

// exec runs a statement without data.
func (c *client) exec(ctx context.Context, query string) error {
	_, err := c.do(ctx, query, nil, false, 0)
	return err
}

// query runs a SELECT and returns its answer (in the FORMAT it names).
func (c *client) query(ctx context.Context, query string) ([]byte, error) {
	return c.do(ctx, query, nil, false, 0)
}

// queryLimit is query reading at most limit bytes of the answer; a longer
// one is an error wrapping storage.ErrTooManyResults.
func (c *client) queryLimit(ctx context.Context, query string, limit int64) ([]byte, error) {
	return c.do(ctx, query, nil, false, limit)
}

// insert sends rows (RowBinary) gzip-compressed with the INSERT statement
// query; gz is the compression buffer, reused.
func (c *client) insert(ctx context.Context, query string, rows []byte, gz *bytes.Buffer) error {
	gz.Reset()
	c.gzMu.Lock()
	c.gz.Reset(gz)
	_, err := c.gz.Write(rows)
	if err == nil {
		err = c.gz.Close()
	}
	c.gzMu.Unlock()
	if err != nil {
		return fmt.Errorf("compressing the insert: %w", err)
	}
	_, err = c.do(ctx, query, gz.Bytes(), true, 0)
	return err
}

func (c *client) close() { c.hc.CloseIdleConnections() }
