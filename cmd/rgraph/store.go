package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/rgraph/rgraph/graph"
	"github.com/rgraph/rgraph/ingest"
)

// storeOpener returns a function that opens the store named by --store,
// $RGRAPH_STORE or the default location. Verbs keep it in their options
// and call it from their run function only, so that --help and flag
// errors never open Badger; tests replace it.
func storeOpener(env *Env, g *globalOptions) func() (*ingest.Store, error) {
	return func() (*ingest.Store, error) {
		dir := env.StoreDir(g.Store)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating store directory: %w", err)
		}
		return ingest.Open(dir, ingest.WithLogger(debugLogger(env)), ingest.WithClock(env.Now))
	}
}

// debugLogger is where the store's (and Badger's) debug log goes: to
// stderr when RGRAPH_DEBUG is set, nowhere otherwise.
func debugLogger(env *Env) *slog.Logger {
	if env.Getenv("RGRAPH_DEBUG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(env.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// withStore opens the store, runs f and closes the store again; it
// returns f's error, or else Close's.
func withStore(open func() (*ingest.Store, error), f func(*ingest.Store) error) (err error) {
	s, err := open()
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()
	return f(s)
}

// findRelease returns release name, or the newest release when name is
// empty, with a hint when the store has none.
func findRelease(s *ingest.Store, name string) (ingest.Release, error) {
	if name != "" {
		return s.Get(name)
	}
	rel, err := s.Latest()
	if errors.Is(err, ingest.ErrNoReleases) {
		return rel, fmt.Errorf("%w; ingest one with 'rgraph ingest --release NAME FILE...'", err)
	}
	return rel, err
}

// loadRelease loads release name from the store, or the newest release
// when name is empty; it is what analysis verbs call for --release. also,
// if given, reads more of the release while the store is open.
func loadRelease(open func() (*ingest.Store, error), name string, also ...func(*ingest.Store, ingest.Release) error) (*graph.Graph, ingest.Release, error) {
	var g *graph.Graph
	var rel ingest.Release
	err := withStore(open, func(s *ingest.Store) error {
		var err error
		if rel, err = findRelease(s, name); err != nil {
			return err
		}
		if g, err = s.Load(rel.Name); err != nil {
			return err
		}
		for _, f := range also {
			if err := f(s, rel); err != nil {
				return err
			}
		}
		return nil
	})
	return g, rel, err
}
