package loadtest

import (
	"bytes"
	"fmt"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"
)

// renderClient times query-vs renders: one keep-alive fasthttp client per
// server, and per caller a request built once and a response whose body
// buffer is reused. The timed cost is then the server's and the loopback's,
// not the client's (net/http's transport passed every request between
// three goroutines, parsed its URL again, grew a fresh body from 512 bytes
// and copied it once more to count the series: 0.47 ms a one-series render
// against ab's 0.2 ms). Every server is timed with the same client.
type renderClient struct {
	hosts map[string]*fasthttp.HostClient
}

// renderMaxBody bounds an answer's size (the largest of the default
// queries is about 7 MB).
const renderMaxBody = 512 << 20

func newRenderClient(servers []QueryServer, clients int) (*renderClient, error) {
	rc := &renderClient{hosts: map[string]*fasthttp.HostClient{}}
	for _, srv := range servers {
		u, err := url.Parse(srv.HTTP)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return nil, fmt.Errorf("query-vs: %s: %q is not an http://host:port URL", srv.Name, srv.HTTP)
		}
		rc.hosts[srv.Name] = &fasthttp.HostClient{
			Addr:                     u.Host,
			MaxConns:                 2 * max(clients, 1),
			ReadTimeout:              2 * time.Minute,
			WriteTimeout:             time.Minute,
			MaxResponseBodySize:      renderMaxBody,
			NoDefaultUserAgentHeader: true,
		}
	}
	return rc, nil
}

// renderCall is one caller's request for one query on one server: built
// once, sent as often as asked.
type renderCall struct {
	hc   *fasthttp.HostClient
	srv  string
	name string
	req  fasthttp.Request
	resp fasthttp.Response
}

func (rc *renderClient) call(srv QueryServer, q QueryCase) *renderCall {
	c := &renderCall{hc: rc.hosts[srv.Name], srv: srv.Name, name: q.Name}
	if q.Post {
		c.req.SetRequestURI(srv.HTTP + "/render")
		c.req.Header.SetMethod(fasthttp.MethodPost)
		c.req.Header.SetContentType("application/x-www-form-urlencoded")
		c.req.SetBodyString(q.Form.Encode())
	} else {
		c.req.SetRequestURI(srv.HTTP + "/render?" + q.Form.Encode())
	}
	return c
}

// do sends the request once and reads the whole answer, returning its
// series (one "target" each, counted without decoding the points) and
// bytes.
func (c *renderCall) do() (int, int, error) {
	if err := c.hc.Do(&c.req, &c.resp); err != nil {
		return 0, 0, fmt.Errorf("%s %s: %w", c.srv, c.name, err)
	}
	body := c.resp.Body()
	if c.resp.StatusCode() != fasthttp.StatusOK {
		return 0, 0, fmt.Errorf("%s %s: status %d: %.300s", c.srv, c.name, c.resp.StatusCode(), body)
	}
	return bytes.Count(body, []byte(`"target"`)), len(body), nil
}
