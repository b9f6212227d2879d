package main

import (
	"context"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/query/api"
)

// The Graphite HTTP API (render, find, and Grafana's endpoints) over the
// write buffer, which reads the backend and overlays buffered points.
func init() { registerComponent(newQueryComponent) }

type queryComponent struct{}

func newQueryComponent(s *server) (component, error) {
	a := api.New(s.cache, api.Options{Logger: s.log, Version: version})
	s.handleHTTPWith(a.Handle)
	return queryComponent{}, nil
}

func (queryComponent) listeners() []ingest.Listener                   { return nil }
func (queryComponent) start(context.Context) error                    { return nil }
func (queryComponent) stop(context.Context) error                     { return nil }
func (queryComponent) metrics(p *promWriter, drops map[string]uint64) {}
