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

// loadRelease loads release name from the store, or the newest release
// when name is empty; it is what analysis verbs call for --release.
func loadRelease(open func() (*ingest.Store, error), name string) (*graph.Graph, ingest.Release, error) {
	var g *graph.Graph
	var rel ingest.Release
	err := withStore(open, func(s *ingest.Store) error {
		var err error
		if name == "" {
			if rel, err = s.Latest(); err != nil {
				if errors.Is(err, ingest.ErrNoReleases) {
					return fmt.Errorf("%w; ingest one with 'rgraph ingest --release NAME FILE...'", err)
				}
				return err
			}
		} else if rel, err = s.Get(name); err != nil {
			return err
		}
		g, err = s.Load(rel.Name)
		return err
	})
	return g, rel, err
}
