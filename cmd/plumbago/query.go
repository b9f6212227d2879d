package main

import (
	"context"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/query/api"
)

// The Graphite HTTP API (render, find, tags and Grafana's endpoints) over
// the write buffer, which reads the backend and overlays buffered points.
// seriesByTag and /tags use the carbon component's tag index: carbon.go's
// init registers that component before this file's does (init functions run
// in file-name order), so s.tagIndex() is set when this one is built.
func init() { registerComponent(newQueryComponent) }

type queryComponent struct{}

func newQueryComponent(s *server) (component, error) {
	// /version must report a graphite-web version (api's default, 1.1.x):
	// Grafana turns on tags and /functions from it, not from Plumbago's own.
	opts := api.Options{Logger: s.log}
	if idx := s.tagIndex(); idx != nil {
		opts.Tags = idx
	}
	a := api.New(s.cache, opts)
	s.handleHTTPWith(a.Handle)
	return queryComponent{}, nil
}

func (queryComponent) listeners() []ingest.Listener                   { return nil }
func (queryComponent) start(context.Context) error                    { return nil }
func (queryComponent) stop(context.Context) error                     { return nil }
func (queryComponent) metrics(p *promWriter, drops map[string]uint64) {}
