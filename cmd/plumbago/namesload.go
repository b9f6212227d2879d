package main

import (
	"fmt"
	"time"

	"github.com/valyala/fasthttp"
)

// Start-up with a large pebble store. Loading the series names (one record
// a series) takes seconds for millions of series, so the store loads them
// in the background (pebble.Options.LoadNamesInBackground) and the server
// starts at once: /healthz answers, ingest is accepted into the write
// buffer, and every other HTTP request (find, render, tags, admin) waits
// until every name is indexed (pebble's Indexed, the first of the load's
// two steps) up to --query-queue-wait, then gets 503. /readyz says
// "loading series names" until then. Writes to the store (the write
// buffer's flushes, deletes, renames) wait for the second step, the name
// map (Loaded). A load that fails stops the server with its error, as a
// failed open did.

// namesLoader is a backend that loads its series names after Open (pebble).
type namesLoader interface {
	Indexed() <-chan struct{}
	Loaded() <-chan struct{}
	LoadErr() error
}

// namesLoading reports whether the store is still indexing its names.
func (s *server) namesLoading() bool {
	nl, ok := s.store.(namesLoader)
	if !ok {
		return false
	}
	select {
	case <-nl.Indexed():
		return false
	default:
		return true
	}
}

// watchNamesLoad logs when the names are in and sends a failed load's
// error to s.loadFailed (serve stops on it).
func (s *server) watchNamesLoad() {
	nl, ok := s.store.(namesLoader)
	if !ok {
		return
	}
	go func() {
		<-nl.Indexed()
		if nl.LoadErr() == nil {
			s.log.Info("series names indexed", "indexed_names", s.index.Len(), "since_start", time.Since(s.start).Round(time.Millisecond).String())
		}
		<-nl.Loaded()
		if err := nl.LoadErr(); err != nil {
			s.loadFailed <- err
			return
		}
		s.log.Info("series names loaded", "indexed_names", s.index.Len(), "since_start", time.Since(s.start).Round(time.Millisecond).String())
	}()
}

// holdUntilLoaded makes a request wait for the names to be indexed (at
// most --query-queue-wait); it answers 503 itself and reports false when
// they are not by then or failed to load.
func (s *server) holdUntilLoaded(ctx *fasthttp.RequestCtx) bool {
	nl, ok := s.store.(namesLoader)
	if !ok {
		return true
	}
	select {
	case <-nl.Indexed():
	default:
		t := time.NewTimer(s.cfg.QueryQueueWait.Duration)
		defer t.Stop()
		select {
		case <-nl.Indexed():
		case <-t.C:
			ctx.Error(fmt.Sprintf("storage is still loading its series names (waited %v, --query-queue-wait); retry shortly", s.cfg.QueryQueueWait.Duration),
				fasthttp.StatusServiceUnavailable)
			return false
		}
	}
	if err := nl.LoadErr(); err != nil {
		ctx.Error(err.Error(), fasthttp.StatusServiceUnavailable)
		return false
	}
	return true
}
