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
// for the names up to --query-queue-wait, then gets 503. /readyz says
// "loading series names" until they are in. A load that fails stops the
// server with its error, as a failed open did.

// namesLoader is a backend that loads its series names after Open (pebble).
type namesLoader interface {
	Loaded() <-chan struct{}
	LoadErr() error
}

// namesLoading reports whether the store is still loading its names.
func (s *server) namesLoading() bool {
	nl, ok := s.store.(namesLoader)
	if !ok {
		return false
	}
	select {
	case <-nl.Loaded():
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
		<-nl.Loaded()
		if err := nl.LoadErr(); err != nil {
			s.loadFailed <- err
			return
		}
		s.log.Info("series names loaded", "indexed_names", s.index.Len(), "since_start", time.Since(s.start).Round(time.Millisecond).String())
	}()
}

// holdUntilLoaded makes a request wait for the names (at most
// --query-queue-wait); it answers 503 itself and reports false when they
// are not in by then or failed to load.
func (s *server) holdUntilLoaded(ctx *fasthttp.RequestCtx) bool {
	nl, ok := s.store.(namesLoader)
	if !ok {
		return true
	}
	select {
	case <-nl.Loaded():
	default:
		t := time.NewTimer(s.cfg.QueryQueueWait.Duration)
		defer t.Stop()
		select {
		case <-nl.Loaded():
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
